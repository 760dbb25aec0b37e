"""Update proposals from decisions: re-propose a project's unreviewed roles with the latest decisions.

Only roles nobody reviewed (no mapping, or status "proposed") are re-proposed — the map scope
"unconfirmed"; confirmed, overridden and needs-info roles are never touched. Runs as the job kind
``update_proposals`` (resumable like "map") and reports how many proposals changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from jobforge.codebooks.decided import learning_scope
from jobforge.db.engine import session_factory
from jobforge.db.models import Codebook, Job, JobStatus, Mapping, MappingStatus, Role
from jobforge.mapping.service import map_roles

KIND = "update_proposals"
SCOPE = "unconfirmed"


def _proposals(session: Session, project_id: int) -> dict[int, tuple[str | None, str | None]]:
    rows = session.execute(
        select(Role.id, Mapping.onet_code, Mapping.tier)
        .outerjoin(Mapping, Mapping.role_id == Role.id)
        .where(Role.project_id == project_id, or_(Mapping.id.is_(None), Mapping.status == MappingStatus.PROPOSED))
    )
    return {role_id: (code, tier) for role_id, code, tier in rows}


def update_proposals(
    session: Session,
    project_id: int,
    provider: str | None = "offline",
    progress: Any = None,
    job_id: int | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Re-propose the project's unreviewed roles; returns the map summary plus ``changed`` (roles
    whose proposed code changed) and ``retiered`` (same code, other tier)."""
    before = dict(job_before(session, job_id) or _proposals(session, project_id))
    if job_id is not None:
        _remember_before(session, job_id, before)
    summary = map_roles(
        session, project_id, provider=provider, scope=SCOPE, progress=progress, job_id=job_id, user=user
    )
    after = _proposals(session, project_id)
    changed = sum(1 for role_id, (code, _) in after.items() if role_id in before and before[role_id][0] != code)
    retiered = sum(
        1
        for role_id, now in after.items()
        if role_id in before and before[role_id][0] == now[0] and before[role_id] != now
    )
    return {**summary.to_dict(), "changed": changed, "retiered": retiered}


def job_before(session: Session, job_id: int | None) -> dict[int, tuple[str | None, str | None]] | None:
    """The proposals as they were when the job first ran (a resumed job compares with those)."""
    if job_id is None:
        return None
    job = session.get(Job, job_id)
    saved = (job.params or {}).get("before") if job is not None else None
    return {int(k): (v[0], v[1]) for k, v in saved.items()} if saved else None


def _remember_before(session: Session, job_id: int, before: dict[int, tuple[str | None, str | None]]) -> None:
    job = session.get(Job, job_id)
    if job is not None and "before" not in (job.params or {}):
        job.params = {**(job.params or {}), "before": {str(k): list(v) for k, v in before.items()}}
        session.commit()


def run_update_job(engine: Engine, job: Job, report: Any) -> dict[str, Any]:
    if job.project_id is None:
        raise ValueError("An update job needs a project.")
    with session_factory(engine)() as session:
        provider = (job.params or {}).get("provider") or "offline"
        result = update_proposals(session, job.project_id, provider, report, job.id, job.created_by)
    result["message"] = (
        f"Re-proposed {result['mapped']:,} unreviewed roles: {result['changed']:,} proposals changed"
        f" ({result['retiered']:,} more changed tier only); decided roles were left as they are"
    )
    return result


def last_update_at(session: Session, project_id: int) -> datetime | None:
    """When the project's proposals were last made or updated (the latest finished map/update job)."""
    return session.scalar(
        select(func.max(Job.finished_at)).where(
            Job.project_id == project_id, Job.kind.in_((KIND, "map")), Job.status == JobStatus.DONE
        )
    )


def new_since_update(session: Session, project_id: int) -> int:
    """Decisions and enabled codebook entries made since :func:`last_update_at` (all when never)."""
    since = last_update_at(session, project_id)
    decisions = (
        select(func.count())
        .select_from(Mapping)
        .join(Role, Mapping.role_id == Role.id)
        .where(Mapping.status.in_(MappingStatus.ANALYST_OWNED))
    )
    if learning_scope() == "project":
        decisions = decisions.where(Role.project_id == project_id)
    entries = select(func.sum(Codebook.imported_count)).where(Codebook.enabled.is_(True))
    if since is not None:
        decisions = decisions.where(Mapping.confirmed_at > since)
        entries = entries.where(Codebook.imported_at > since)
    return int(session.scalar(decisions) or 0) + int(session.scalar(entries) or 0)
