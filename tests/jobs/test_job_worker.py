"""Workers run jobs to the end: the map job, failures, cancellation, the in-process background worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from sqlalchemy import Engine, func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Job, JobStatus, Mapping, Role
from jobforge.jobs import queue
from jobforge.jobs.queue import claim_next, enqueue
from jobforge.jobs.registry import register_handler, registered_kinds
from jobforge.jobs.worker import (
    Worker,
    ensure_background_worker,
    process_space,
    stop_background_workers,
    worker_is_dead,
)
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

TITLES = ["Line Cook", "Truck Driver", "Staff Accountant", "Software Engineer", "CEO", "Staff Nurse", "Welder"]


def project_with_roles(engine: Engine, name: str) -> int:
    with session_factory(engine)() as session:
        project = create_project(session, name, "tester")
        session.add_all([Role(project_id=project.id, title=t, title_key=title_key(t)) for t in TITLES])
        session.commit()
        return project.id


def mapped_count(engine: Engine, project_id: int) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(Mapping).join(Role).where(Role.project_id == project_id))


def job_of(engine: Engine, job_id: int) -> Job:
    with session_factory(engine)() as session:
        return queue.get_job(session, job_id)


def wait_until_finished(engine: Engine, job_id: int, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_of(engine, job_id)
        if job.status in queue.FINISHED:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job.status} {job.message}")


def test_the_map_job_maps_the_project_with_progress(onet_engine: Engine) -> None:
    project_id = project_with_roles(onet_engine, "Worker map")
    with session_factory(onet_engine)() as session:
        job = enqueue(session, "map", project_id, {"provider": "offline", "batch_size": 3}, "alice")

    worker = Worker(onet_engine, worker_id="test-worker")
    assert worker.run_once() is True
    assert worker.run_once() is False  # nothing left

    done = job_of(onet_engine, job.id)
    assert done.status == JobStatus.DONE and done.worker_id == "test-worker"
    assert (done.progress_done, done.progress_total) == (7, 7)
    assert done.result["mapped"] == 7 and done.result["by_source"] == {"offline": 7}
    assert done.result["provider"] == "offline"
    assert mapped_count(onet_engine, project_id) == 7
    assert "map" in registered_kinds()


def test_a_failing_handler_fails_its_job_with_the_reason(engine: Engine) -> None:
    def explode(_engine: Engine, _job: Job, report: Any) -> dict[str, Any]:
        report(1, 2, "half way")
        raise ValueError("the spreadsheet vanished")

    register_handler("test-explode", explode)
    with session_factory(engine)() as session:
        failing = enqueue(session, "test-explode", None, {}, "alice")
        unknown = enqueue(session, "no-such-kind", None, {}, "alice")
    worker = Worker(engine)
    assert worker.run_once() and worker.run_once()

    failed = job_of(engine, failing.id)
    assert failed.status == JobStatus.FAILED and "the spreadsheet vanished" in failed.error
    assert (failed.progress_done, failed.progress_total) == (1, 2)
    assert job_of(engine, unknown.id).status == JobStatus.FAILED
    assert "No handler for jobs of kind 'no-such-kind'" in job_of(engine, unknown.id).error


def test_cancelling_a_running_job_stops_it_after_the_batch(engine: Engine) -> None:
    batches: list[int] = []

    def long_job(engine_: Engine, job: Job, report: Any) -> dict[str, Any]:
        for n in range(1, 6):
            batches.append(n)
            if n == 2:  # an analyst presses "cancel" meanwhile
                with session_factory(engine_)() as session:
                    queue.cancel(session, job.id, "alice")
            report(n, 5, f"batch {n}")
        return {"finished": True}

    register_handler("test-long", long_job)
    with session_factory(engine)() as session:
        job = enqueue(session, "test-long", None, {}, "alice")
    Worker(engine).run_once()
    assert batches == [1, 2]
    cancelled = job_of(engine, job.id)
    assert cancelled.status == JobStatus.CANCELLED and cancelled.result == {}


def test_a_stopping_worker_hands_the_job_to_the_next_one(engine: Engine) -> None:
    stop = threading.Event()
    seen: list[str] = []

    def resumable(_engine: Engine, job: Job, report: Any) -> dict[str, Any]:
        seen.append(job.worker_id or "")
        stop.set()  # SIGTERM arrives during the first batch
        report(1, 2, "batch 1")
        return {"ok": True}

    register_handler("test-resumable", resumable)
    with session_factory(engine)() as session:
        job = enqueue(session, "test-resumable", None, {}, "alice")
    first = Worker(engine, worker_id="first")
    first.run_forever(poll=0.05, stop_event=stop)  # returns once the job was handed back
    assert job_of(engine, job.id).status == JobStatus.QUEUED

    Worker(engine, worker_id="second").run_once()
    finished = job_of(engine, job.id)
    assert finished.status == JobStatus.DONE and seen == ["first", "second"]


def test_the_background_worker_runs_queued_jobs(onet_engine: Engine) -> None:
    project_id = project_with_roles(onet_engine, "Background")
    try:
        thread = ensure_background_worker(onet_engine)
        assert ensure_background_worker(onet_engine) is thread and thread.daemon  # one per process and store
        with session_factory(onet_engine)() as session:
            job = enqueue(session, "map", project_id, {"provider": "offline"}, "alice")
        finished = wait_until_finished(onet_engine, job.id)
        assert finished.status == JobStatus.DONE, finished.error
        assert mapped_count(onet_engine, project_id) == len(TITLES)
    finally:
        stop_background_workers()
    assert not thread.is_alive()


def test_jobs_of_a_dead_local_worker_process_are_resumed_at_once(engine: Engine) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = process_space()
    with session_factory(engine)() as session:
        orphan = enqueue(session, "map", None, {}, "alice")
        claim_next(session, f"{host}:{gone.pid}:abc123")  # that process has exited
        alive = enqueue(session, "map", None, {}, "alice")
        claim_next(session, f"{host}:{os.getpid()}:def456")  # this very process
        remote = enqueue(session, "map", None, {}, "alice")
        claim_next(session, "another-host:1:ghi789")  # only its heartbeat can tell
        same_name = enqueue(session, "map", None, {}, "alice")
        claim_next(session, f"{socket.gethostname()}@other-ns:{gone.pid}:jkl012")  # another container

        assert queue.requeue_orphans(session, worker_is_dead) == 1
        assert queue.get_job(session, orphan.id).status == JobStatus.QUEUED
        assert queue.get_job(session, alive.id).status == JobStatus.RUNNING
        assert queue.get_job(session, remote.id).status == JobStatus.RUNNING
        assert queue.get_job(session, same_name.id).status == JobStatus.RUNNING


def test_a_map_job_without_an_onet_release_fails_with_a_clear_message(engine: Engine) -> None:
    project_id = project_with_roles(engine, "No release")
    with session_factory(engine)() as session:
        job = enqueue(session, "map", project_id, {"provider": "offline"}, "alice")
    Worker(engine).run_once()
    failed = job_of(engine, job.id)
    assert failed.status == JobStatus.FAILED
    assert failed.error.startswith("No O*NET release is loaded.")
    assert mapped_count(engine, project_id) == 0
