"""The job queue: claiming (each job to one worker), heartbeats, cancelling, recovering stale jobs."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, select, text, update

from jobforge.db.engine import make_engine, session_factory
from jobforge.db.models import AuditEvent, Job, JobStatus, utcnow
from jobforge.jobs import queue
from jobforge.jobs.queue import JobCancelled, claim_next, enqueue


def test_jobs_are_claimed_oldest_first_once(engine: Engine) -> None:
    with session_factory(engine)() as session:
        first = enqueue(session, "map", None, {"scope": "all"}, "alice")
        second = enqueue(session, "impute", None, {}, "bob")

        claimed = claim_next(session, "w1")
        assert claimed.id == first.id
        assert (claimed.status, claimed.worker_id) == (JobStatus.RUNNING, "w1")
        assert claimed.started_at is not None and claimed.heartbeat_at is not None
        assert claimed.params == {"scope": "all"} and claimed.created_by == "alice"
        assert claim_next(session, "w2").id == second.id
        assert claim_next(session, "w3") is None
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "job")).all()
        assert actions == ["enqueue", "enqueue"]


def test_claiming_can_be_limited_to_kinds(engine: Engine) -> None:
    with session_factory(engine)() as session:
        enqueue(session, "impute", None, {}, "alice")
        mapping = enqueue(session, "map", None, {}, "alice")
        assert claim_next(session, "w1", kinds=("map",)).id == mapping.id
        assert claim_next(session, "w1", kinds=("map",)) is None


def test_finish_fail_and_progress(engine: Engine) -> None:
    with session_factory(engine)() as session:
        job = enqueue(session, "map", None, {}, "alice")
        claim_next(session, "w1")
        queue.heartbeat(session, job.id, "w1", done=3, total=10, message="Mapped 3 of 10 roles")
        stored = queue.get_job(session, job.id)
        assert (stored.progress_done, stored.progress_total, stored.message) == (3, 10, "Mapped 3 of 10 roles")
        assert queue.finish(session, job.id, "w1", {"mapped": 10})
        stored = queue.get_job(session, job.id)
        assert (stored.status, stored.result) == (JobStatus.DONE, {"mapped": 10}) and stored.finished_at

        other = enqueue(session, "map", None, {}, "alice")
        claim_next(session, "w1")
        assert not queue.fail(session, other.id, "someone-else", "boom")  # not that worker's job
        assert queue.fail(session, other.id, "w1", "boom")
        assert queue.get_job(session, other.id).status == JobStatus.FAILED


def test_cancel_stops_a_queued_or_running_job(engine: Engine) -> None:
    with session_factory(engine)() as session:
        queued = enqueue(session, "map", None, {}, "alice")
        running = enqueue(session, "map", None, {}, "alice")
        assert queue.cancel(session, queued.id, "alice")
        assert claim_next(session, "w1").id == running.id  # the cancelled one is skipped
        assert queue.cancel(session, running.id, "bob")
        with pytest.raises(JobCancelled, match="cancelled"):
            queue.heartbeat(session, running.id, "w1", done=1, total=5)
        assert not queue.finish(session, running.id, "w1", {})  # a late finish does not revive it
        assert queue.get_job(session, running.id).status == JobStatus.CANCELLED
        assert not queue.cancel(session, running.id, "bob")  # already finished
        assert [job.id for job in queue.list_jobs(session, active_only=True)] == []


def test_a_job_whose_worker_stopped_beating_is_resumed_by_another(engine: Engine) -> None:
    with session_factory(engine)() as session:
        job = enqueue(session, "map", None, {}, "alice")
        claimed = claim_next(session, "dead-worker")
        started = claimed.started_at
        assert claim_next(session, "w2") is None  # fresh heartbeat: still the first worker's

        session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(hours=1)))
        session.commit()
        resumed = claim_next(session, "w2")
        assert resumed.id == job.id and resumed.worker_id == "w2"
        assert resumed.started_at == started  # the first start is kept
        with pytest.raises(JobCancelled):  # the old worker, if it wakes up, learns it lost the job
            queue.heartbeat(session, job.id, "dead-worker")


def test_a_stopping_worker_hands_its_job_back(engine: Engine) -> None:
    with session_factory(engine)() as session:
        job = enqueue(session, "map", None, {}, "alice")
        claim_next(session, "w1")
        assert queue.release(session, job.id, "w1")
        assert claim_next(session, "w2").id == job.id


def test_concurrent_workers_never_claim_the_same_job(engine: Engine) -> None:
    with session_factory(engine)() as session:
        ids = {enqueue(session, "map", None, {"n": n}, "alice").id for n in range(24)}
    claims: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(worker_id: str) -> None:
        try:
            with session_factory(engine)() as session:
                while (job := claim_next(session, worker_id)) is not None:
                    claims.setdefault(worker_id, []).append(job.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    claimed = [job_id for jobs in claims.values() for job_id in jobs]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # SKIP LOCKED is the Postgres claim
def test_postgres_claim_skips_a_job_locked_by_another_worker(engine: Engine) -> None:
    with session_factory(engine)() as session:
        first = enqueue(session, "map", None, {}, "alice")
        second = enqueue(session, "map", None, {}, "alice")

    # Another engine whose waits fail fast: a claim that blocked on the lock would raise.
    other = make_engine(engine.url.render_as_string(hide_password=False))
    event.listen(other, "connect", lambda conn, _record: conn.execute("SET lock_timeout = '3s'"))
    try:
        with engine.connect() as holder:
            holder.begin()
            # Worker A is in the middle of claiming the first job: its row is locked.
            holder.execute(text("SELECT id FROM job WHERE id = :id FOR UPDATE"), {"id": first.id})
            with session_factory(other)() as session:
                claimed = claim_next(session, "worker-b")
            assert claimed is not None and claimed.id == second.id
            holder.rollback()
        with session_factory(other)() as session:
            assert claim_next(session, "worker-b").id == first.id
    finally:
        other.dispose()


def test_a_project_gets_one_active_job_per_kind(engine: Engine) -> None:
    from jobforge.projects import create_project

    with session_factory(engine)() as session:
        project = create_project(session, "Double click", "alice")
        first = enqueue(session, "map", project.id, {"scope": "unmapped"}, "alice")
        assert enqueue(session, "map", project.id, {"scope": "all"}, "bob").id == first.id
        imputing = enqueue(session, "impute", project.id, {}, "alice")
        assert imputing.id != first.id
        claim_next(session, "w1")
        assert enqueue(session, "map", project.id, {}, "bob").id == first.id  # still running
        queue.finish(session, first.id, "w1", {})
        assert enqueue(session, "map", project.id, {}, "bob").id != first.id  # finished: a new run
