"""The "impute" job: ``impute_project`` run by a worker, with progress reported per batch.

Params: ``provider`` (default "auto"), ``steps`` (default all), ``batch_size``. The run is idempotent
(see :mod:`jobforge.imputation.service`), so a restarted job just finishes what is left.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from jobforge.db.engine import session_factory
from jobforge.db.models import Job
from jobforge.imputation.service import STEPS, impute_project

JOB_KIND = "impute"


def handle_impute_job(engine: Engine, job: Job, report: Any) -> dict[str, Any]:
    if job.project_id is None:
        raise ValueError("An impute job needs a project.")
    params = job.params or {}
    with session_factory(engine)() as session:
        summary = impute_project(
            session,
            job.project_id,
            provider=params.get("provider", "auto"),
            steps=tuple(params.get("steps") or STEPS),
            progress=report,
            job_id=job.id,
            lease=job.lease,
            batch_size=params.get("batch_size"),
        )
    return summary.to_dict()
