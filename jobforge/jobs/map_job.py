"""The "map" job: ``map_roles`` for a project, resumable (see ``jobforge.mapping.service``).

Params: ``provider`` (default the ``provider`` setting), ``scope`` (default "unmapped"),
``batch_size`` (optional), ``batch_api`` (default false: true sends the roles to the provider's
half-price batch API and waits for it; the progress message names the batch while it runs). The
service commits a resume cursor with every batch, so a job that was interrupted and re-run maps only
the roles it had not mapped yet: each role is mapped once. A batch-API job that is re-run polls the
batch it submitted (its id is kept in ``llm_batch``) instead of submitting again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from jobforge.db.engine import session_factory
from jobforge.db.models import Job
from jobforge.jobs.registry import Report
from jobforge.mapping.service import map_roles

KIND = "map"


def run_map_job(engine: Engine, job: Job, report: Report) -> dict[str, Any]:
    if job.project_id is None:
        raise ValueError("A map job needs a project.")
    params = job.params or {}
    with session_factory(engine)() as session:
        summary = map_roles(
            session,
            job.project_id,
            provider=params.get("provider"),  # None: the provider setting
            scope=params.get("scope") or "unmapped",
            batch_size=params.get("batch_size"),
            batch_api=bool(params.get("batch_api")),
            progress=report,
            job_id=job.id,
            user=job.created_by,  # only decisions of projects its starter may see vote
            lease=job.lease,
        )
    by_tier = summary.by_tier
    tiers = ", ".join(f"{tier} {by_tier[tier]:,}" for tier in ("HIGH", "MEDIUM", "LOW") if tier in by_tier)
    via = " through the provider's batch API" if params.get("batch_api") else ""
    message = f"Mapped {summary.mapped:,} roles{via}" + (f" ({tiers})" if tiers else "")
    if summary.skipped_confirmed:
        message += f"; {summary.skipped_confirmed:,} decided by analysts left unchanged"
    return {**summary.to_dict(), "message": message}
