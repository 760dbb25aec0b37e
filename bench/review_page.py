"""The review page itself, server side: a 20,000-role project rendered by the real app (AppTest).

Measures what the analyst waits for on the server: the whole Review page script (stats, filters,
``review_rows``, the grid payload of up to ``review_page_size`` rows, the detail panel with candidate
tasks), a Confirm click (the action + the redraw with the next role selected), and a filter to LOW.
The browser's own rendering of the grid is not included. Medians of ``--repeat`` runs.

Usage:
    .venv/bin/python bench/review_page.py                  # SQLite file in /tmp (kept for re-runs)
    .venv/bin/python bench/review_page.py --postgres       # a fresh schema on the local Postgres
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from upload_review import ensure_release, make_review_project, postgres_engine  # noqa: E402

from jobforge.db.engine import make_engine  # noqa: E402
from jobforge.db.migrate import upgrade  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, action, repeat: int) -> None:
    walls, cpus = [], []
    for _ in range(repeat):
        c0, w0 = cpu(), time.perf_counter()
        action()
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu() - c0)
    print(f"| {label} | {statistics.median(walls):.2f} s | {statistics.median(cpus):.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    if args.postgres:
        engine, drop = postgres_engine()
    else:
        path = Path(f"/tmp/bench_review_page_{args.roles}.db")
        engine, drop = make_engine(f"sqlite:///{path}"), (lambda: None)
    upgrade(engine)
    ensure_release(engine)
    from sqlalchemy import func, select

    from jobforge.db.engine import session_factory
    from jobforge.db.models import Project

    with session_factory(engine)() as s:
        project_id = s.scalar(select(func.min(Project.id)))
    if project_id is None:
        project_id = make_review_project(engine, args.roles)

    os.environ["JOBFORGE_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    os.environ["JOBFORGE_USER"] = "bench"
    os.environ["JOBFORGE_APP_WORKER"] = "false"
    from streamlit.testing.v1 import AppTest

    from jobforge.config import get_settings

    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state["project_id"] = project_id
        at.run()
        at.switch_page("pages/review.py").run()  # warm: engine, caches, imports
        assert not at.exception, [e.value for e in at.exception]
        print(f"Review page, {args.roles:,} roles, {engine.dialect.name}; page size {get_settings().review_page_size}")
        print("| Server step | wall (median) | CPU (median) |")
        print("|---|---|---|")
        measure("Review page run (all filters)", lambda: at.run(), args.repeat)

        def confirm() -> None:
            role_id = at.session_state["review_selected"]
            at.button(key=f"confirm_{role_id}").click().run()

        measure("Confirm click + redraw with the next role", confirm, args.repeat)
        at.button_group(key="flt_tier").set_value(["LOW"])
        measure("Filter to LOW + redraw", lambda: at.button_group(key="flt_tier").set_value(["LOW"]).run(), 1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"Peak RSS of the process: {peak:,.0f} MB; load average {os.getloadavg()}")
    finally:
        drop()


if __name__ == "__main__":
    main()
