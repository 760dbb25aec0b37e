"""Jobs are single and fenced: duplicate requests, a worker past its lease, a job against an analyst.

Each race is interleaved at its dangerous point, on SQLite and Postgres.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Job, JobStatus, Mapping, MappingStatus, Role
from jobforge.jobs import queue
from jobforge.jobs.queue import JobCancelled
from jobforge.mapping.selectors import RoleRequest
from jobforge.mapping.service import map_roles
from jobforge.mapping.tiers import ConfidenceTier, MappingSource, RoleMappingResult
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key
from jobforge.review.actions import StaleDecision, confirm

TITLES = ["Line Cook", "Prep Cook", "Grill Cook", "Pastry Cook"]


def add_project(session: Session, name: str = "Kitchen") -> tuple[int, dict[str, int]]:
    project = create_project(session, name, "tester")
    roles = [Role(project_id=project.id, title=title, title_key=title_key(title)) for title in TITLES]
    session.add_all(roles)
    session.commit()
    return project.id, {role.title: role.id for role in roles}


class FixedSelector:
    """Proposes one code for every role; ``during`` runs inside the "LLM call" (no transaction open)."""

    name = "fixed"

    def __init__(self, code: str = "35-2014.00", during: Any = None) -> None:
        self.code = code
        self.during = during

    def select(self, roles: list[RoleRequest]) -> list[RoleMappingResult]:
        if self.during is not None:
            self.during()
        return [
            RoleMappingResult(
                source_role=role.title,
                onet_code=self.code,
                onet_title="Cooks, Restaurant",
                confidence=ConfidenceTier.MEDIUM,
                reasoning="picked by the test",
                source=MappingSource.LLM,
                role_id=role.role_id,
                candidates=[candidate.to_dict() for candidate in role.candidates],
            )
            for role in roles
        ]


def mappings(engine: Engine) -> dict[int, Mapping]:
    with session_factory(engine)() as session:
        return {m.role_id: m for m in session.scalars(select(Mapping))}


def test_twenty_concurrent_requests_queue_exactly_one_job(engine: Engine) -> None:
    with session_factory(engine)() as session:
        project_id, _ = add_project(session)
    start = threading.Barrier(20)
    ids: list[int] = []
    errors: list[Exception] = []

    def request() -> None:
        with session_factory(engine)() as session:
            start.wait()
            try:
                ids.append(queue.enqueue(session, "map", project_id, {"scope": "all"}, "ann").id)
            except Exception as exc:  # any failure is what this test is about
                errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(ids) == 20 and len(set(ids)) == 1
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1
        # Once it is finished, the next request queues a new job.
        job = session.get(Job, ids[0])
        job.status = JobStatus.DONE
        session.commit()
        assert queue.enqueue(session, "map", project_id, {}, "ann").id != ids[0]


def test_a_worker_paused_past_its_lease_writes_nothing(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session)
        job = queue.enqueue(session, "map", project_id, {"scope": "all"}, "ann")
        first = queue.claim_next(session, "worker-a")
        paused_lease = first.lease
        # Worker A stops sending heartbeats (paused): the job is re-queued and worker B takes it.
        assert queue.requeue_stale(session, stale_seconds=-1) == 1
        second = queue.claim_next(session, "worker-b")
        assert second.id == job.id and second.lease != paused_lease

    with session_factory(onet_engine)() as session, pytest.raises(JobCancelled, match="lease"):
        map_roles(session, project_id, scope="all", job_id=job.id, lease=paused_lease, selector=FixedSelector())
    assert mappings(onet_engine) == {}  # A's batch wrote nothing, not even its cursor

    with session_factory(onet_engine)() as session:
        summary = map_roles(
            session, project_id, scope="all", job_id=job.id, lease=second.lease, selector=FixedSelector()
        )
        assert summary.mapped == len(TITLES)
        assert session.get(Job, job.id).result["done"] == len(TITLES)
    assert sorted(mappings(onet_engine)) == sorted(ids.values())


def test_an_analyst_decision_during_the_llm_call_is_kept(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session)
        map_roles(session, project_id, scope="all", selector=FixedSelector("35-2014.00"))
    cook = ids["Line Cook"]
    shown = mappings(onet_engine)[cook]

    def analyst_confirms() -> None:
        with session_factory(onet_engine)() as session:
            confirm(session, cook, "ann", version=shown.version, code=shown.onet_code)

    with session_factory(onet_engine)() as session:
        summary = map_roles(
            session, project_id, scope="all", selector=FixedSelector("35-2021.00", during=analyst_confirms)
        )
    final = mappings(onet_engine)
    assert (final[cook].onet_code, final[cook].status) == ("35-2014.00", MappingStatus.CONFIRMED)
    assert summary.skipped_confirmed >= 1
    assert {final[r].onet_code for r in ids.values() if r != cook} == {"35-2021.00"}


def test_an_analyst_confirm_while_the_job_writes_is_refused_not_lost(onet_engine: Engine) -> None:
    with session_factory(onet_engine)() as session:
        project_id, ids = add_project(session)
        map_roles(session, project_id, scope="all", selector=FixedSelector("35-2014.00"))
    cook = ids["Line Cook"]
    shown = mappings(onet_engine)[cook]
    outcome: dict[str, Any] = {}

    def analyst_confirms() -> None:
        try:
            with session_factory(onet_engine)() as session:
                confirm(session, cook, "ann", version=shown.version, code=shown.onet_code)
        except Exception as exc:  # the refusal is the outcome under test
            outcome["error"] = exc

    analyst = threading.Thread(target=analyst_confirms)
    with session_factory(onet_engine)() as session:

        @event.listens_for(session, "before_commit")
        def start_analyst(_session: Session) -> None:
            # The job has checked the statuses and written its proposals; its commit is next.
            written = select(func.count()).select_from(Mapping).where(Mapping.onet_code == "35-2021.00")
            if "started" not in outcome and session.in_transaction() and session.scalar(written):
                outcome["started"] = True
                analyst.start()
                analyst.join(timeout=0.3)

        map_roles(session, project_id, scope="all", selector=FixedSelector("35-2021.00"))
    analyst.join(timeout=30)
    assert outcome.get("started")
    error = outcome.get("error")
    assert isinstance(error, StaleDecision), outcome
    assert "now 35-2021.00" in error.message
    final = mappings(onet_engine)[cook]
    assert (final.onet_code, final.status) == ("35-2021.00", MappingStatus.PROPOSED)
    with session_factory(onet_engine)() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "confirm")) == 0


def test_a_store_fault_shows_the_job_retrying_and_it_resumes(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from jobforge.jobs import worker as worker_module
    from jobforge.jobs.registry import register_handler

    monkeypatch.setattr(worker_module, "STORE_BACKOFF_FIRST", 0.01)
    calls: list[int] = []

    def flaky(_engine: Engine, job: Job, report: Any) -> dict[str, Any]:
        calls.append(job.id)
        if len(calls) == 1:
            raise OperationalError("UPDATE mapping", {}, sqlite3.OperationalError("disk I/O error"))
        report(1, 1, "done after the store came back")
        return {"message": "Mapped 1 of 1"}

    register_handler("test-flaky-store", flaky)
    seen: list[tuple[str, str | None]] = []
    real_resume = queue.resume_running

    def watch_resume(session: Session, job_id: int, worker_id: str) -> bool:
        job = queue.get_job(session, job_id)
        seen.append((job.status, job.error))
        session.rollback()
        return real_resume(session, job_id, worker_id)

    monkeypatch.setattr(queue, "resume_running", watch_resume)
    with session_factory(engine)() as session:
        project_id, _ = add_project(session)
        job = queue.enqueue(session, "test-flaky-store", project_id, {}, "ann")
    assert worker_module.Worker(engine).run_once()
    assert seen == [(JobStatus.RETRYING, "OperationalError: disk I/O error")]
    with session_factory(engine)() as session:
        finished = queue.get_job(session, job.id)
        assert (finished.status, finished.message, finished.error) == (JobStatus.DONE, "Mapped 1 of 1", None)
    assert calls == [job.id, job.id]


def test_a_store_error_while_finishing_is_reported_and_the_end_recorded_once_it_answers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from jobforge.jobs import worker as worker_module
    from jobforge.jobs.registry import register_handler

    monkeypatch.setattr(worker_module, "STORE_BACKOFF_FIRST", 0.01)
    runs: list[int] = []

    def quick(_engine: Engine, job: Job, _report: Any) -> dict[str, Any]:
        runs.append(job.id)
        return {"message": "Mapped 4 of 4"}

    register_handler("test-finish-fault", quick)
    real_finish = queue.finish
    failures = [OperationalError("UPDATE job", {}, sqlite3.OperationalError("database or disk is full"))]

    def finish_once_failing(session: Session, job_id: int, worker_id: str, result: dict[str, Any]) -> bool:
        if failures:
            raise failures.pop()
        return real_finish(session, job_id, worker_id, result)

    monkeypatch.setattr(queue, "finish", finish_once_failing)
    with session_factory(engine)() as session:
        project_id, _ = add_project(session)
        job = queue.enqueue(session, "test-finish-fault", project_id, {}, "ann")
    assert worker_module.Worker(engine).run_once()
    assert runs == [job.id]  # the work was not run again
    assert f"Could not record the end of job {job.id}: the store failed" in caplog.text
    assert "could not claim" not in caplog.text
    with session_factory(engine)() as session:
        assert queue.get_job(session, job.id).status == JobStatus.DONE
