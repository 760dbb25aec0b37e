"""Job kinds and their handlers.

A handler ``handler(engine, job, report) -> dict`` does the job's work in batches, committing each
batch, and calls ``report(done, total, message)`` after each one (which also raises
``JobCancelled`` when the job was cancelled meanwhile). It must be idempotent: a job that was
interrupted runs again from the start of its handler and must only do what is still left.
The returned dict is stored as the job's result.

The built-in kinds are "map" (:mod:`jobforge.jobs.map_job`), "impute"
(:mod:`jobforge.imputation.jobs`) and "update_proposals" (:mod:`jobforge.codebooks.update`);
``register_handler`` adds others (tests, extensions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from jobforge.db.models import Job
from jobforge.errors import JobForgeError

Report = Callable[[int, int, str], None]
Handler = Callable[[Engine, Job, Report], dict[str, Any]]

_EXTRA_HANDLERS: dict[str, Handler] = {}


class UnknownJobKind(JobForgeError, LookupError):
    pass


def register_handler(kind: str, handler: Handler) -> None:
    _EXTRA_HANDLERS[kind] = handler


def _handlers() -> dict[str, Handler]:
    # Imported here, not at the top: the handler modules import this one for ``Report``.
    from jobforge.codebooks.update import KIND as UPDATE
    from jobforge.codebooks.update import run_update_job
    from jobforge.imputation.jobs import JOB_KIND as IMPUTE
    from jobforge.imputation.jobs import handle_impute_job
    from jobforge.jobs.map_job import KIND as MAP
    from jobforge.jobs.map_job import run_map_job

    return {MAP: run_map_job, IMPUTE: handle_impute_job, UPDATE: run_update_job, **_EXTRA_HANDLERS}


def get_handler(kind: str) -> Handler:
    try:
        return _handlers()[kind]
    except KeyError:
        raise UnknownJobKind(f"No handler for jobs of kind '{kind}'.") from None


def registered_kinds() -> list[str]:
    return sorted(_handlers())
