"""A team set-up: two `python -m jobforge worker` processes on Postgres share a queue of map jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from jobforge.db.engine import session_factory
from jobforge.db.models import Job, JobStatus, Mapping, Role
from jobforge.jobs.queue import enqueue
from jobforge.projects import create_project
from jobforge.retrieval.normalize import title_key

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = 4
ROLES_PER_PROJECT = 6


def start_worker(engine: Engine, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JOBFORGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "JOBFORGE_DATA_DIR": str(data_dir),
        "JOBFORGE_MAP_BATCH_DELAY": "0.2",
        "JOBFORGE_WORKER_POLL_SECONDS": "0.2",
    }
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "jobforge", "worker"], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_two_worker_processes_share_the_queue_and_map_every_role_once(onet_engine: Engine, tmp_path: Path) -> None:
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(onet_engine, tmp_path / "data", log) for log in logs]
    try:
        with session_factory(onet_engine)() as session:
            job_ids = []
            for p in range(PROJECTS):
                project = create_project(session, f"Team {p}", "tester")
                titles = [f"Truck Driver {p}-{n}" for n in range(ROLES_PER_PROJECT)]
                session.add_all([Role(project_id=project.id, title=t, title_key=title_key(t)) for t in titles])
                session.commit()
                job = enqueue(session, "map", project.id, {"provider": "offline", "batch_size": 2}, "tester")
                job_ids.append(job.id)

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_factory(onet_engine)() as session:
                statuses = session.scalars(select(Job.status).where(Job.id.in_(job_ids))).all()
            if all(status in (JobStatus.DONE, JobStatus.FAILED) for status in statuses):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("jobs did not finish:\n" + "\n".join(log.read_text(errors="replace") for log in logs))
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

    with session_factory(onet_engine)() as session:
        jobs = session.scalars(select(Job).where(Job.id.in_(job_ids))).all()
        assert all(job.status == JobStatus.DONE for job in jobs), [(job.id, job.error) for job in jobs]
        assert sum(job.result["mapped"] for job in jobs) == PROJECTS * ROLES_PER_PROJECT  # no role twice
        assert session.scalar(select(func.count()).select_from(Mapping)) == PROJECTS * ROLES_PER_PROJECT
        assert all(job.worker_id and job.worker_id.count(":") == 2 for job in jobs)  # host:pid:suffix
    for worker in workers:
        assert worker.returncode == 0  # SIGTERM: a clean stop
