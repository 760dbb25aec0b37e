"""Job kinds and their handlers.

A handler ``handler(engine, job, report) -> dict`` does the job's work in batches, committing each
batch, and calls ``report(done, total, message)`` after each one (which also raises
``JobCancelled`` when the job was cancelled meanwhile). It must be idempotent: a job that was
interrupted runs again from the start of its handler and must only do what is still left.
The returned dict is stored as the job's result.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from jobforge.db.models import Job

Report = Callable[[int, int, str], None]
Handler = Callable[[Engine, Job, Report], dict[str, Any]]

# Modules that register handlers when imported; absent ones are skipped (built by other areas).
HANDLER_MODULES = ("jobforge.jobs.map_job", "jobforge.imputation.jobs")

_HANDLERS: dict[str, Handler] = {}
_log = logging.getLogger(__name__)


class UnknownJobKind(LookupError):
    pass


def register_handler(kind: str, handler: Handler) -> None:
    _HANDLERS[kind] = handler


def load_handlers() -> None:
    """Import every module that registers handlers (lazily, tolerant of absent ones)."""
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                _log.warning("Job handlers in %s could not be loaded: %s", name, exc)


def get_handler(kind: str) -> Handler:
    if kind not in _HANDLERS:
        load_handlers()
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownJobKind(f"No handler for jobs of kind '{kind}'.") from None


def registered_kinds() -> list[str]:
    load_handlers()
    return sorted(_HANDLERS)
