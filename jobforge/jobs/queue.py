"""The job queue in the store: enqueue, claim, heartbeat, finish, cancel, recover.

Claiming is safe with many workers: on Postgres ``SELECT … FOR UPDATE SKIP LOCKED`` hands each
queued job to exactly one worker without blocking the others; on SQLite (one writer at a time) a
guarded ``UPDATE … WHERE status = 'queued'`` does the same. A running job whose worker stopped
sending heartbeats (killed, machine gone) is put back in the queue and resumed by the next worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.config import get_settings
from jobforge.db.models import Job, JobStatus, utcnow
from jobforge.review import audit

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class JobCancelled(RuntimeError):
    """The job was cancelled (or taken over by another worker) while it ran."""


def enqueue(
    session: Session,
    kind: str,
    project_id: int | None,
    params: dict[str, Any] | None,
    user: str | None,
    allow_parallel: bool = False,
) -> Job:
    """Queue a job and commit it, so that workers (other processes) see it at once.

    A project's queued or running job of the same kind is returned instead of queueing a second
    one (a double click, two analysts): two runs over the same roles would only race each other.
    ``allow_parallel`` turns that off. PermissionDenied when ``user`` may not write in the project.
    """
    require(session, user or "", Permission.PROJECT_WRITE, project_id)
    if project_id is not None and not allow_parallel:
        active = session.scalar(
            select(Job)
            .where(Job.kind == kind, Job.project_id == project_id, Job.status.in_(ACTIVE))
            .order_by(Job.id)
            .limit(1)
        )
        if active is not None:
            return active
    job = Job(
        kind=kind,
        project_id=project_id,
        params=dict(params or {}),
        status=JobStatus.QUEUED,
        created_by=user,
        message="Waiting for a worker",
    )
    session.add(job)
    session.flush()
    audit.record(session, user or "unknown", "enqueue", "job", job.id, project_id, after={"kind": kind, **job.params})
    session.commit()
    return job


def requeue_stale(session: Session, stale_seconds: float | None = None) -> int:
    """Put running jobs whose heartbeat is older than ``stale_seconds`` back in the queue."""
    seconds = get_settings().job_stale_seconds if stale_seconds is None else stale_seconds
    cutoff = utcnow() - timedelta(seconds=seconds)
    stale = select(Job.id).where(Job.status == JobStatus.RUNNING, Job.heartbeat_at < cutoff).limit(1)
    if session.scalar(stale) is None:  # the usual case: no write (and no SQLite write lock) at all
        session.rollback()
        return 0
    result = session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, Job.heartbeat_at < cutoff)
        .values(status=JobStatus.QUEUED, worker_id=None, message="Resuming after its worker stopped")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


def requeue_orphans(session: Session, is_dead: Callable[[str], bool]) -> int:
    """Put running jobs whose worker is known to be gone (``is_dead(worker_id)``) back in the queue.

    Lets a restarted app resume its own jobs at once instead of waiting for the heartbeat timeout.
    """
    running = session.execute(select(Job.id, Job.worker_id).where(Job.status == JobStatus.RUNNING)).all()
    orphans = [job_id for job_id, worker_id in running if worker_id and is_dead(worker_id)]
    if not orphans:
        session.rollback()
        return 0
    result = session.execute(
        update(Job)
        .where(Job.id.in_(orphans), Job.status == JobStatus.RUNNING)
        .values(status=JobStatus.QUEUED, worker_id=None, message="Resuming after its worker stopped")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


def claim_next(session: Session, worker_id: str, kinds: tuple[str, ...] | None = None) -> Job | None:
    """Take the oldest queued job for ``worker_id`` (marking it running), or None when there is none."""
    requeue_stale(session)
    if session.get_bind().dialect.name == "postgresql":
        return _claim_skip_locked(session, worker_id, kinds)
    return _claim_guarded(session, worker_id, kinds)


def _queued(kinds: tuple[str, ...] | None) -> Any:
    query = select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.created_at, Job.id)
    return query.where(Job.kind.in_(kinds)) if kinds else query


def _start_values(worker_id: str) -> dict[str, Any]:
    now = utcnow()
    return {"status": JobStatus.RUNNING, "worker_id": worker_id, "heartbeat_at": now, "message": "Running"}


def _claim_skip_locked(session: Session, worker_id: str, kinds: tuple[str, ...] | None) -> Job | None:
    # The row lock lives until commit; other workers skip it instead of waiting or taking it too.
    job_id = session.scalar(_queued(kinds).limit(1).with_for_update(skip_locked=True))
    if job_id is None:
        session.rollback()
        return None
    session.execute(update(Job).where(Job.id == job_id).values(**_start_values(worker_id)))
    _mark_started(session, job_id)
    session.commit()
    return _fresh(session, job_id)


def _claim_guarded(session: Session, worker_id: str, kinds: tuple[str, ...] | None) -> Job | None:
    for _ in range(20):  # another worker may win a race for a given job: try the next one
        job_id = session.scalar(_queued(kinds).limit(1))
        if job_id is None:
            session.rollback()
            return None
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(**_start_values(worker_id))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:
            _mark_started(session, job_id)
            session.commit()
            return _fresh(session, job_id)
        session.rollback()
    return None


def _mark_started(session: Session, job_id: int) -> None:
    # started_at is the first start; a resumed job keeps it.
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.started_at.is_(None))
        .values(started_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _fresh(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id, populate_existing=True)


def heartbeat(
    session: Session,
    job_id: int,
    worker_id: str,
    done: int | None = None,
    total: int | None = None,
    message: str | None = None,
) -> None:
    """Record that ``worker_id`` is alive on the job (and its progress, when given).

    Raises JobCancelled when the job was cancelled or re-queued for another worker meanwhile.
    """
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    if message is not None:
        values["message"] = message
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.worker_id == worker_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount != 1:
        job = _fresh(session, job_id)
        state = job.status if job else "deleted"
        raise JobCancelled(f"Job {job_id} is {state} and no longer this worker's ({worker_id}).")


def finish(session: Session, job_id: int, worker_id: str, result: dict[str, Any]) -> bool:
    """Mark the job done with ``result`` (its "message", if any, becomes the job's message).

    False when the job was cancelled or taken over meanwhile.
    """
    message = str(result.get("message") or "Done")
    return _close(session, job_id, worker_id, JobStatus.DONE, result=result, message=message)


def fail(session: Session, job_id: int, worker_id: str, error: str) -> bool:
    return _close(session, job_id, worker_id, JobStatus.FAILED, error=error, message="Failed")


def _close(session: Session, job_id: int, worker_id: str, status: str, **values: Any) -> bool:
    outcome = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.worker_id == worker_id)
        .values(status=status, finished_at=utcnow(), heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return outcome.rowcount == 1


def release(session: Session, job_id: int, worker_id: str) -> bool:
    """Hand a running job back to the queue (its worker is stopping); the next worker resumes it."""
    outcome = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.worker_id == worker_id)
        .values(status=JobStatus.QUEUED, worker_id=None, message="Waiting for a worker to resume it")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return outcome.rowcount == 1


def cancel(session: Session, job_id: int, user: str | None = None) -> bool:
    """Cancel a queued or running job (a running one stops after its current batch)."""
    project_id = session.scalar(select(Job.project_id).where(Job.id == job_id))
    require(session, user or "", Permission.PROJECT_WRITE, project_id)
    outcome = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), message="Cancelled")
        .execution_options(synchronize_session=False)
    )
    if outcome.rowcount == 1:
        job = _fresh(session, job_id)
        audit.record(session, user or "unknown", "cancel", "job", job_id, job.project_id if job else None)
    session.commit()
    return outcome.rowcount == 1


def get_job(session: Session, job_id: int) -> Job | None:
    """The job as stored now (not a stale copy from this session)."""
    return _fresh(session, job_id)


def list_jobs(
    session: Session, project_id: int | None = None, kind: str | None = None, active_only: bool = False
) -> list[Job]:
    """Jobs, newest first."""
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc())
    if project_id is not None:
        query = query.where(Job.project_id == project_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if active_only:
        query = query.where(Job.status.in_(ACTIVE))
    return list(session.scalars(query.execution_options(populate_existing=True)))
