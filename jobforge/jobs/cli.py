"""`python -m jobforge worker`: run queued jobs (mapping, imputation) from the store."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run queued jobs (mapping, imputation) from the store",
        description="Claim queued jobs from the store and run them. Run several against Postgres to share the work.",
    )
    parser.add_argument("--once", action="store_true", help="run at most one job, then exit")
    parser.add_argument("--poll", type=float, default=None, help="seconds between looks at an empty queue")
    parser.set_defaults(handler=run_worker)

    jobs = subparsers.add_parser(
        "jobs",
        help="list recent jobs, or cancel one",
        description="List the store's recent jobs (newest first) with their progress, or cancel one.",
    )
    jobs.add_argument("--active", action="store_true", help="only queued and running jobs")
    jobs.add_argument("--limit", type=int, default=20, help="how many jobs to list (default 20)")
    jobs.add_argument("--cancel", type=int, metavar="ID", help="cancel this job (a running one stops after its batch)")
    jobs.set_defaults(handler=run_jobs)


def run_worker(args: argparse.Namespace) -> int:
    from jobforge.db.engine import describe_url, get_engine
    from jobforge.jobs.worker import Worker

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("jobforge").setLevel(logging.INFO)  # our job log lines, not the libraries' chatter
    from jobforge.config import get_settings

    engine = get_engine(get_settings().resolved_database_url())
    worker = Worker(engine)
    print(f"Worker {worker.worker_id} on {describe_url(str(engine.url))}", file=sys.stderr)
    if args.once:
        worked = worker.run_once()
        print("Ran one job." if worked else "No queued job.", file=sys.stderr)
        return 0
    stop = threading.Event()
    # SIGTERM: the running job goes back to the queue after its current batch (kill -9: the heartbeat).
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        worker.run_forever(poll=args.poll, stop_event=stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def run_jobs(args: argparse.Namespace) -> int:
    from jobforge.access import visible_project_ids
    from jobforge.cli import CommandError, acting_user
    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.jobs import queue

    settings = get_settings()
    engine = get_engine(settings.resolved_database_url())
    with session_factory(engine)() as session:
        if args.cancel is not None:
            job = queue.get_job(session, args.cancel)
            if job is None:
                raise CommandError(f"No job with id {args.cancel}.")
            if not queue.cancel(session, args.cancel, acting_user(args)):
                raise CommandError(f"Job {args.cancel} is already {job.status}.")
            print(f"Job {args.cancel} cancelled.")
            return 0
        jobs = queue.list_jobs(session, active_only=args.active)
        visible = visible_project_ids(session, acting_user(args))
        if visible is not None:  # only the jobs of projects this user can see
            jobs = [job for job in jobs if job.project_id in visible]
        jobs = jobs[: max(1, args.limit)]
        if not jobs:
            print("No jobs.")
            return 0
        print(f"{'id':>6}  {'kind':<8} {'status':<10} {'progress':>15}  {'project':>7}  {'worker':<28} message")
        for job in jobs:
            progress = f"{job.progress_done:,}/{job.progress_total:,}"
            project = "" if job.project_id is None else str(job.project_id)
            message = (job.error or job.message or "").splitlines()[0] if (job.error or job.message) else ""
            print(
                f"{job.id:>6}  {job.kind:<8} {job.status:<10} {progress:>15}  {project:>7}  "
                f"{(job.worker_id or '-'):<28} {message}"
            )
    return 0
