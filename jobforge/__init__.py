"""JobForge: map an organisation's job roles to O*NET-SOC occupations, with review and provenance."""

from jobforge.redaction import install_log_scrubbing

__version__ = "0.1.0"

# No API key reaches a log line, whichever logger or handler writes it (see jobforge.redaction).
install_log_scrubbing()
