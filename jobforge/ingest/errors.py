"""The error of the ingest package (re-exported by :mod:`jobforge.ingest.reader`)."""

from __future__ import annotations

from jobforge.errors import JobForgeError


class IngestError(JobForgeError, ValueError):
    """The uploaded file cannot be used; the message tells the analyst why and what to do."""
