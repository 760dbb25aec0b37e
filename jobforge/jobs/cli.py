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
