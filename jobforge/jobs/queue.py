"""The job queue in the store: enqueue, claim, heartbeat, finish, cancel, recover.

Claiming is safe with many workers: on Postgres ``SELECT … FOR UPDATE SKIP LOCKED`` hands each
queued job to exactly one worker without blocking the others; on SQLite (one writer at a time) a
guarded ``UPDATE … WHERE status = 'queued'`` inside ``BEGIN IMMEDIATE`` does the same. Each claim
writes a new lease token that every batch write checks (``hold_lease``). A running job whose worker stopped
sending heartbeats (killed, machine gone) is put back in the queue and resumed by the next worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jobforge.access import Permission, require
from jobforge.config import get_settings
from jobforge.db.engine import write_transaction
from jobforge.db.models import Job, JobStatus, utcnow
from jobforge.review import audit

OWNED = (JobStatus.RUNNING, JobStatus.RETRYING)  # held by a worker (its worker_id and lease)
ACTIVE = (JobStatus.QUEUED, *OWNED)
FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class JobCancelled(RuntimeError):
    """The job was cancelled (or taken over by another worker) while it ran."""


def enqueue(
    session: Session,
    kind: str,
    project_id: int | None,
    params: dict[str, Any] | None,
    user: str | None,
) -> Job:
    """Queue a job and commit it, so that workers (other processes) see it at once.

    A project's active (queued, running, retrying) job of the same kind is returned instead of
    queueing a second one (a double click, two tabs, two analysts): a partial unique index on
    (project, kind) makes this hold under any number of concurrent requests. PermissionDenied when
    ``user`` may not write in the project.
    """
    require(session, user or "", Permission.PROJECT_WRITE, project_id)
    try:
        with write_transaction(session):
            active = _active_job(session, kind, project_id)
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
            audit.record(
                session, user or "unknown", "enqueue", "job", job.id, project_id, after={"kind": kind, **job.params}
            )
    except IntegrityError:
        # Another request inserted the active job between our check and our insert (Postgres).
        active = _active_job(session, kind, project_id)
        if active is None:
            raise
        return active
    return job


def _active_job(session: Session, kind: str, project_id: int | None) -> Job | None:
    if project_id is None:
        return None
    return session.scalar(
        select(Job)
        .where(Job.kind == kind, Job.project_id == project_id, Job.status.in_(ACTIVE))
        .order_by(Job.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


_REQUEUED = {
    "status": JobStatus.QUEUED,
    "worker_id": None,
    "lease": None,
    "message": "Resuming after its worker stopped",
}


def requeue_stale(session: Session, stale_seconds: float | None = None) -> int:
    """Put running jobs whose heartbeat is older than ``stale_seconds`` back in the queue."""
    seconds = get_settings().job_stale_seconds if stale_seconds is None else stale_seconds
    cutoff = utcnow() - timedelta(seconds=seconds)
    owned = (Job.status.in_(OWNED), Job.heartbeat_at < cutoff)
    if session.scalar(select(Job.id).where(*owned).limit(1)) is None:
        session.rollback()  # the usual case: no stale job, no write (and no SQLite write lock) at all
        return 0
    with write_transaction(session):
        result = session.execute(
            update(Job).where(*owned).values(**_REQUEUED).execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def requeue_orphans(session: Session, is_dead: Callable[[str], bool]) -> int:
    """Put running jobs whose worker is known to be gone (``is_dead(worker_id)``) back in the queue.

    Lets a restarted app resume its own jobs at once instead of waiting for the heartbeat timeout.
    """
    running = session.execute(select(Job.id, Job.worker_id).where(Job.status.in_(OWNED))).all()
    orphans = [job_id for job_id, worker_id in running if worker_id and is_dead(worker_id)]
    if not orphans:
        session.rollback()
        return 0
    with write_transaction(session):
        result = session.execute(
            update(Job)
            .where(Job.id.in_(orphans), Job.status.in_(OWNED))
            .values(**_REQUEUED)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def claim_next(session: Session, worker_id: str, kinds: tuple[str, ...] | None = None) -> Job | None:
    """Take the oldest queued job for ``worker_id`` (marking it running, with a new lease), or None."""
    requeue_stale(session)
    for _ in range(20):  # another worker may win a race for a given job: try the next one
        with write_transaction(session):
            query = _queued(kinds).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                # The row lock lives until commit; other workers skip it instead of waiting or taking it too.
                query = query.with_for_update(skip_locked=True)
            job_id = session.scalar(query)
            if job_id is None:
                return None
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(**_start_values(worker_id))
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:
                _mark_started(session, job_id)
                return _fresh(session, job_id)
    return None


def _queued(kinds: tuple[str, ...] | None) -> Any:
    query = select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.created_at, Job.id)
    return query.where(Job.kind.in_(kinds)) if kinds else query


def _start_values(worker_id: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "status": JobStatus.RUNNING,
        "worker_id": worker_id,
        "lease": uuid.uuid4().hex,
        "heartbeat_at": now,
        "message": "Running",
        "error": None,
    }


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


def hold_lease(session: Session, job_id: int, lease: str | None) -> None:
    """Check, inside the caller's write transaction, that the job is still this worker's.

    Called first in every batch write: the UPDATE takes the job row (Postgres) or the write lock
    (SQLite, BEGIN IMMEDIATE) until the batch commits, so the lease cannot change in between.
    Raises JobCancelled (the caller's transaction then writes nothing) when the job was cancelled
    or re-queued and claimed by another worker.
    """
    # A run without a claim (``lease`` None: a direct call, tests) holds a job no worker has claimed.
    holds = (
        (Job.lease == lease, Job.status == JobStatus.RUNNING)
        if lease
        else (Job.lease.is_(None), Job.status.in_(ACTIVE))
    )
    held = session.execute(
        update(Job)
        .where(Job.id == job_id, *holds)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise JobCancelled(f"Job {job_id} is no longer held by this worker (its lease was lost): nothing written.")


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
    with write_transaction(session):
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(OWNED), Job.worker_id == worker_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:
        job = _fresh(session, job_id)
        state = job.status if job else "deleted"
        session.rollback()
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
    return _set_owned(session, job_id, worker_id, status=status, finished_at=utcnow(), heartbeat_at=utcnow(), **values)


def _set_owned(session: Session, job_id: int, owner: str, **values: Any) -> bool:
    """Change the job only while worker ``owner`` holds it (running or retrying); True when it did."""
    with write_transaction(session):
        outcome = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(OWNED), Job.worker_id == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return outcome.rowcount == 1


def mark_retrying(session: Session, job_id: int, worker_id: str, error: str, delay: float) -> bool:
    """Show that the job hit a store fault and will be tried again in ``delay`` seconds (error kept)."""
    message = f"Retrying in {delay:.0f} s after a store error"
    return _set_owned(
        session, job_id, worker_id, status=JobStatus.RETRYING, error=error, message=message, heartbeat_at=utcnow()
    )


def resume_running(session: Session, job_id: int, worker_id: str) -> bool:
    """Back from "retrying" to "running" (the store answers again), the error cleared."""
    return _set_owned(session, job_id, worker_id, status=JobStatus.RUNNING, error=None, message="Resuming")


def release(session: Session, job_id: int, worker_id: str) -> bool:
    """Hand a running job back to the queue (its worker is stopping); the next worker resumes it."""
    return _set_owned(
        session,
        job_id,
        worker_id,
        status=JobStatus.QUEUED,
        worker_id=None,
        lease=None,
        message="Waiting for a worker to resume it",
    )


def cancel(session: Session, job_id: int, user: str | None = None) -> bool:
    """Cancel a queued or running job (a running one stops after its current batch)."""
    project_id = session.scalar(select(Job.project_id).where(Job.id == job_id))
    require(session, user or "", Permission.PROJECT_WRITE, project_id)
    with write_transaction(session):
        outcome = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE))
            .values(status=JobStatus.CANCELLED, finished_at=utcnow(), message="Cancelled", lease=None)
            .execution_options(synchronize_session=False)
        )
        if outcome.rowcount == 1:
            audit.record(session, user or "unknown", "cancel", "job", job_id, project_id)
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
