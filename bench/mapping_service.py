"""Speed of the mapping service end to end (store -> candidates -> offline selector -> store).

Unlike the offline-mapping benchmark (retrieval + selection in memory), this times what a user
waits for: roles read from the store, precedent look-ups, proposals written and committed batch by
batch — directly (`map_roles`, as the CLI does) and as a database-backed job run by a worker.

    .venv/bin/python bench/mapping_service.py [--roles 10000] [--store sqlite:////tmp/bench_map.db]

The store must have the 30.1 release loaded (the script loads it when it has none). Titles come
from the eval file's titles (only as realistic text; nothing is scored here).
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.onet.repository import active_release


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roles", type=int, default=10_000)
    parser.add_argument("--store", default="sqlite:////tmp/bench_map.db")
    args = parser.parse_args()

    from jobforge.ingest.uploads import create_upload
    from jobforge.jobs.queue import enqueue
    from jobforge.jobs.worker import Worker
    from jobforge.mapping.service import map_roles
    from jobforge.onet.loader import load_release
    from jobforge.projects import create_project
    from jobforge.retrieval.index import get_candidate_index

    settings = get_settings()
    engine = get_engine(args.store)
    sessions = session_factory(engine)
    with sessions() as session:
        if active_release(session) is None:
            load_release(engine, settings.resolved_onet_source())

    labels = settings.resolved_eval_labels()
    with open(labels, newline="", encoding="utf-8") as handle:
        titles = list(dict.fromkeys(row["title"] for row in csv.DictReader(handle)))[: args.roles]
    data = ("Job Title\n" + "\n".join(f'"{t}"' for t in (title.replace('"', '""') for title in titles))).encode()

    with sessions() as session:
        started = time.perf_counter()
        get_candidate_index(session)
        print(f"index ready (built or loaded) in {time.perf_counter() - started:.1f} s")

        stamp = time.strftime("%H%M%S")
        direct = create_project(session, f"bench direct {stamp}", "bench")
        create_upload(session, direct.id, "bench.csv", data, None, "Job Title", {}, [], "bench")
        started, cpu = time.perf_counter(), time.process_time()
        summary = map_roles(session, direct.id, provider="offline")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"map_roles offline: {summary.mapped} roles in {seconds:.1f} s wall, {cpu:.1f} s CPU "
            f"({summary.mapped / seconds:,.0f} roles/s wall)"
        )
        # Where the time goes: retrieval alone, for the same titles, in memory.
        index = get_candidate_index(session)
        started = time.perf_counter()
        for title in titles:
            index.candidates(title, k=20)
        print(
            f"  of which retrieval alone (index.candidates x {len(titles)}): {time.perf_counter() - started:.1f} s wall"
        )

        from jobforge.mapping.service import estimate_cost

        started = time.perf_counter()
        estimate = estimate_cost(session, direct.id, "anthropic", "all")
        print(
            f"estimate_cost anthropic, scope all: {time.perf_counter() - started:.2f} s -> {estimate.calls} calls, "
            f"{estimate.input_tokens:,} in / {estimate.output_tokens:,} out tokens, ${estimate.usd:,.2f}"
        )

        as_job = create_project(session, f"bench job {stamp}", "bench")
        create_upload(session, as_job.id, "bench.csv", io.BytesIO(data).getvalue(), None, "Job Title", {}, [], "bench")
        job = enqueue(session, "map", as_job.id, {"provider": "offline"}, "bench")
    started, cpu = time.perf_counter(), time.process_time()
    Worker(engine).run_once()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with sessions() as session:
        from jobforge.jobs.queue import get_job

        done = get_job(session, job.id)
    print(f"map job via worker: {done.progress_done} roles in {seconds:.1f} s wall, {cpu:.1f} s CPU, {done.status}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
