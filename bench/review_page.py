"""The review page itself, server side: a 20,000-role project rendered by the real app (AppTest).

Measures what the analyst waits for on the server: the whole Review page script (stats, filters,
``review_rows``, the grid payload of up to ``review_page_size`` rows, the detail panel with candidate
tasks), a Confirm click (the action + the redraw with the next role selected), a filter to LOW, the
impact order, and applying one code to every role with its undo.
The browser's own rendering of the grid is not included. Medians of ``--repeat`` runs.

Usage:
    .venv/bin/python bench/review_page.py                  # a fresh SQLite store in /tmp
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

from stores import fresh_store  # noqa: E402
from upload_review import ensure_release, make_review_project  # noqa: E402


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

    with fresh_store("postgres" if args.postgres else "sqlite") as engine:
        ensure_release(engine)
        run(engine, make_review_project(engine, args.roles), args)


def run(engine, project_id: int, args: argparse.Namespace) -> None:
    os.environ["JOBFORGE_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    os.environ["JOBFORGE_USER"] = "bench"
    os.environ["JOBFORGE_APP_WORKER"] = "false"
    from streamlit.testing.v1 import AppTest

    from jobforge.config import get_settings

    get_settings.cache_clear()
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
    at.button_group(key="flt_tier").set_value(["LOW", "MEDIUM", "HIGH"]).run()
    measure("Order by impact + redraw", lambda: at.button_group(key="flt_order").set_value("impact").run(), 1)
    at.toggle(key="bulk_open").set_value(True)
    measure("Apply-to-many panel opened: preview of every role", lambda: at.run(), 1)
    at.text_input(key="bulk_code_query").set_value("15-1252")

    def apply_to_all() -> None:
        at.run()
        at.checkbox(key="bulk_include").check().run()
        at.button(key="bulk_apply").click().run()

    measure("Apply one code to every role (one audited action) + redraw", apply_to_all, 1)
    measure("Undo it (from the audit log) + redraw", lambda: at.button(key="undo_bulk").click().run(), 1)
    assert not at.exception, [e.value for e in at.exception]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of the process: {peak:,.0f} MB; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
