"""Kill a real `python -m jobforge worker` mid-job; a restarted worker finishes it, each role mapped once.

The job is slowed deterministically (two roles per committed batch, a pause after each via the
``JOBFORGE_MAP_BATCH_DELAY`` setting) and the worker is killed with SIGKILL once a few batches are
committed, so the kill always lands mid-job. Every role starts with an old proposal and the job
re-maps them all (scope "all"), so "mapped by this job" is visible per role.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Job, JobStatus, Mapping, Role
from jobforge.jobs.queue import enqueue
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

ROOT = Path(__file__).resolve().parents[2]
ROLES = 24
BATCH = 2


def start_worker(engine: Engine, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOBFORGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "JOBFORGE_DATA_DIR": str(data_dir),
        "JOBFORGE_MAP_BATCH_DELAY": "0.25",
        "JOBFORGE_JOB_HEARTBEAT_SECONDS": "0.5",
        "JOBFORGE_JOB_STALE_SECONDS": "2",
        "JOBFORGE_WORKER_POLL_SECONDS": "0.2",
    }
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "jobforge", "worker"], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )


def wait_for(condition: Callable[[], bool], what: str, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text(errors='replace')}")


def job_state(engine: Engine, job_id: int) -> Job:
    with session_factory(engine)() as session:
        return session.get(Job, job_id)


def proposals(engine: Engine, project_id: int) -> dict[int, tuple[str, datetime]]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(Mapping.role_id, Mapping.rationale, Mapping.updated_at)
            .join(Role)
            .where(Role.project_id == project_id)
        )
        return {role_id: (rationale, updated_at) for role_id, rationale, updated_at in rows}


def test_killed_worker_job_resumes_and_maps_every_role_once(onet_engine: Engine, tmp_path: Path) -> None:
    with session_factory(onet_engine)() as session:
        project = create_project(session, "Restart", "tester")
        roles = [
            Role(project_id=project.id, title=f"Line Cook {n}", title_key=title_key(f"Line Cook {n}"))
            for n in range(ROLES)
        ]
        session.add_all(roles)
        session.flush()
        for role in roles:
            session.add(
                Mapping(
                    role_id=role.id, onet_code="11-1011.00", tier="LOW", score=0.5, source="offline", rationale="old"
                )
            )
        session.commit()
        job = enqueue(
            session, "map", project.id, {"provider": "offline", "scope": "all", "batch_size": BATCH}, "tester"
        )
        project_id, job_id = project.id, job.id

    log = tmp_path / "worker.log"
    data_dir = tmp_path / "worker-data"
    first = start_worker(onet_engine, data_dir, log)
    try:
        wait_for(lambda: job_state(onet_engine, job_id).progress_done >= 3 * BATCH, "three committed batches", log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()

    killed = job_state(onet_engine, job_id)
    assert killed.status == JobStatus.RUNNING and killed.progress_done < ROLES  # died mid-job
    before_restart = {
        role_id: stamp
        for role_id, (rationale, stamp) in proposals(onet_engine, project_id).items()
        if rationale != "old"
    }
    assert killed.progress_done <= len(before_restart) < ROLES

    second = start_worker(onet_engine, data_dir, log)
    try:
        wait_for(lambda: job_state(onet_engine, job_id).status == JobStatus.DONE, "the resumed job to finish", log)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()

    done = job_state(onet_engine, job_id)
    assert (done.progress_done, done.progress_total) == (ROLES, ROLES)
    assert done.result["mapped"] == ROLES  # counted across both workers: no role twice
    final = proposals(onet_engine, project_id)
    assert len(final) == ROLES
    assert all(rationale != "old" for rationale, _ in final.values())  # every role mapped by the job
    for role_id, stamp in before_restart.items():  # roles done before the kill were not mapped again
        assert final[role_id][1] == stamp
