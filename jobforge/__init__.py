"""JobForge: map an organisation's job roles to O*NET-SOC occupations, with review and provenance."""

__version__ = "0.1.0"
