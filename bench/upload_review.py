"""Upload, review and export speed: the issue's targets, measured on this machine.

1. A 200,000-row XLSX (generated once, cached in /tmp) -> read -> unique roles, and the whole
   ``create_upload`` into a fresh store.  Target: under 15 s to unique roles.
2. A 20,000-role project with stored proposals (20 candidates each) on the full O*NET release:
   the review page's queries, a confirm, a bulk confirm + undo, the stats, exports.
   Target: under 1 s of server time for the page's queries and for a confirm.
3. Peak memory of the process (target under 1.5 GB).

Usage:
    .venv/bin/python bench/upload_review.py                       # SQLite in /tmp
    .venv/bin/python bench/upload_review.py --postgres            # a fresh schema on the local Postgres
    .venv/bin/python bench/upload_review.py --rows 50000 --roles 5000   # smaller, quicker
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sqlalchemy import Engine, insert, select  # noqa: E402
from stores import fresh_store  # noqa: E402

from jobforge.config import get_settings  # noqa: E402
from jobforge.db.engine import session_factory  # noqa: E402
from jobforge.db.models import Mapping, OnetOccupation, Role  # noqa: E402
from jobforge.export.writers import export_roles  # noqa: E402
from jobforge.ingest.reader import read_table  # noqa: E402
from jobforge.ingest.uploads import build_roles, create_upload  # noqa: E402
from jobforge.onet.repository import require_active_release  # noqa: E402
from jobforge.projects import create_project, project_stats  # noqa: E402
from jobforge.retrieval.normalize import title_key  # noqa: E402
from jobforge.review.actions import bulk_confirm, confirm, undo_bulk  # noqa: E402
from jobforge.review.queries import next_unreviewed, review_rows, role_detail  # noqa: E402

SENIORITY = ["", "Senior ", "Junior ", "Lead ", "Principal ", "Assistant ", "Chief ", "Associate "]
SUFFIXES = ["", " I", " II", " III", " - Nights", " (Remote)"]
BASES = [
    "Accountant",
    "Auditor",
    "Payroll Specialist",
    "Financial Analyst",
    "Software Engineer",
    "Data Analyst",
    "Network Administrator",
    "Help Desk Technician",
    "Registered Nurse",
    "Nursing Assistant",
    "Pharmacist",
    "Physician Assistant",
    "Line Cook",
    "Chef",
    "Dishwasher",
    "Server",
    "Truck Driver",
    "Forklift Operator",
    "Warehouse Associate",
    "Customer Service Representative",
    "Call Center Agent",
    "Sales Representative",
    "Account Manager",
    "Marketing Coordinator",
    "HR Generalist",
    "Recruiter",
    "Office Manager",
    "Administrative Assistant",
    "Receptionist",
    "Electrician",
    "Plumber",
    "Maintenance Technician",
    "Mechanical Engineer",
    "Civil Engineer",
    "Project Manager",
    "Product Manager",
    "Teacher",
    "Teaching Assistant",
    "Security Guard",
    "Janitor",
    "Paralegal",
    "Attorney",
    "Graphic Designer",
    "Welder",
    "Machinist",
    "Quality Inspector",
    "Lab Technician",
    "Medical Assistant",
    "Physical Therapist",
    "Social Worker",
]
FAMILIES = ["Finance", "Technology", "Health", "Hospitality", "Logistics", "Service", "Sales", "People", "Operations"]
EDUCATION = ["", "", "High school", "Bachelor's degree", "Master's degree", "Associate degree"]


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def timed(label: str, fn: Callable[[], Any], repeat: int = 1) -> Any:
    """Run ``fn``; print the wall-clock time and the CPU time this process used (the machine is
    shared: when others keep the cores busy, wall time grows while CPU time stays put)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - start_cpu)
    suffix = f"  (median of {repeat})" if repeat > 1 else ""
    print(
        f"  {label:<58} {statistics.median(walls) * 1000:8.0f} ms wall {statistics.median(cpus) * 1000:8.0f} ms CPU"
        f"{suffix}",
        flush=True,
    )
    return result


def titles(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct job titles built from bases, seniority words, levels and noise."""
    rng = random.Random(seed)
    found: list[str] = []
    seen: set[str] = set()
    department_words = ["", " - Finance", " - Retail", " - ICU", " - Warehouse", " - Corporate", " - Field"]
    while len(found) < count:
        title = (
            f"{rng.choice(SENIORITY)}{rng.choice(BASES)}{rng.choice(SUFFIXES)}{rng.choice(department_words)}"
            f"{'' if rng.random() < 0.7 else f' {rng.randint(1, 400)}'}"
        )
        if title not in seen:
            seen.add(title)
            found.append(title)
    return found


def make_xlsx(rows: int, path: Path, unique: int = 8000) -> Path:
    """A realistic HR export: one row per employee; titles repeat with case/spacing variants."""
    import xlsxwriter

    if path.exists():
        return path
    rng = random.Random(11)
    pool = titles(unique)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Employees")
    header = [
        "Employee ID",
        "Job Title",
        "Job Family",
        "Department",
        "Grade",
        "FTE",
        "Education",
        "Years Experience",
        "Key Skills",
        "Location",
    ]
    sheet.write_row(0, 0, header)
    for row in range(1, rows + 1):
        title = rng.choice(pool)
        if rng.random() < 0.05:
            title = title.upper()
        elif rng.random() < 0.05:
            title = "  " + title.replace(" ", "  ")
        elif rng.random() < 0.005:
            title = ""
        family = FAMILIES[hash(title.lower().split(" -")[0]) % len(FAMILIES)]
        sheet.write_row(
            row,
            0,
            [
                f"{row:07d}",
                title,
                family,
                f"Dept {rng.randint(1, 60)}",
                f"G{rng.randint(1, 9)}",
                rng.choice([1, 1, 1, 0.5, 0.8]),
                rng.choice(EDUCATION),
                str(rng.randint(0, 25)),
                rng.choice(["", "Excel", "SQL", "Customer service", "Forklift"]),
                rng.choice(["NYC", "Austin", "Remote"]),
            ],
        )
    workbook.close()
    return path


def bench_upload(engine: Engine, rows: int) -> None:
    path = make_xlsx(rows, Path(tempfile.gettempdir()) / f"jobforge_bench_{rows}.xlsx")
    data = path.read_bytes()
    print(f"Upload: {rows:,} rows, {len(data) / 1e6:.1f} MB XLSX ({path})")
    start, start_cpu = time.perf_counter(), cpu_seconds()
    frame = timed("read_table (calamine, all cells as text)", lambda: read_table(data, path.name))
    built = timed(
        "build_roles (unique roles, context, attributes)",
        lambda: build_roles(
            frame,
            "Job Title",
            {"job_family": "Job Family", "department": "Department", "level": "Grade", "headcount": "FTE"},
            ["Education", "Years Experience", "Key Skills"],
        ),
    )
    print(
        f"  => {len(built.roles):,} unique roles, {built.blank_titles} blank titles; "
        f"file -> unique roles {time.perf_counter() - start:.1f} s wall, {cpu_seconds() - start_cpu:.1f} s CPU"
    )
    with session_factory(engine)() as session:
        project = create_project(session, f"bench-upload-{uuid.uuid4().hex[:6]}", "bench")
        upload = timed(
            "create_upload (read + roles + store, one transaction)",
            lambda: create_upload(
                session,
                project.id,
                path.name,
                data,
                None,
                "Job Title",
                {"job_family": "Job Family", "department": "Department", "level": "Grade", "headcount": "FTE"},
                ["Education", "Years Experience", "Key Skills"],
                "bench",
            ),
        )
        print(f"  => stored {upload.summary.unique_roles:,} roles; peak memory so far {peak_memory_mb():.0f} MB")


def ensure_release(engine: Engine) -> None:
    from jobforge.onet.loader import load_release
    from jobforge.onet.repository import active_release

    with session_factory(engine)() as session:
        if active_release(session) is not None:
            return
    source = get_settings().resolved_onet_source()
    if not source:
        sys.exit("The O*NET 30.1 zip is needed (../shared/onet/db_30_1_text.zip or JOBFORGE_ONET_SOURCE).")
    start = time.perf_counter()
    load_release(engine, source)
    print(f"  (loaded O*NET from {source} in {time.perf_counter() - start:.0f} s)")


def make_review_project(engine: Engine, roles: int) -> int:
    """A project of ``roles`` unique roles, each with a proposal and 20 candidates."""
    rng = random.Random(5)
    # Distinct titles until there are ``roles`` distinct title keys (variants of one key merge).
    pool, keys = [], set()
    for title in titles(roles * 2, seed=13):
        key = title_key(title)
        if key not in keys:
            keys.add(key)
            pool.append(title)
        if len(pool) == roles:
            break
    csv_rows = ["Job Title,Job Family,Department"] + [
        f"{title},{rng.choice(FAMILIES)},Dept {rng.randint(1, 60)}" for title in pool
    ]
    data = ("\n".join(csv_rows) + "\n").encode()
    with session_factory(engine)() as session:
        project = create_project(session, f"bench-review-{uuid.uuid4().hex[:6]}", "bench")
        create_upload(
            session,
            project.id,
            "roles.csv",
            data,
            None,
            "Job Title",
            {"job_family": "Job Family", "department": "Department"},
            [],
            "bench",
        )
        release_id = require_active_release(session).id
        occupations = session.execute(
            select(OnetOccupation.code, OnetOccupation.title, OnetOccupation.release_id).where(
                OnetOccupation.release_id == release_id
            )
        ).all()
        role_ids = list(session.scalars(select(Role.id).where(Role.project_id == project.id)))
        mappings = []
        for role_id in role_ids:
            picks = rng.sample(occupations, 20)
            tier = rng.choices(["HIGH", "MEDIUM", "LOW"], weights=[4, 3, 3])[0]
            candidates = [
                {
                    "code": code,
                    "title": title,
                    "score": round(30 - rank * 1.2, 2),
                    "matched_on": "alternate_title",
                    "matched_text": title,
                    "exact": rank == 0,
                    "description": "",
                    "rank": rank + 1,
                }
                for rank, (code, title, _release) in enumerate(picks)
            ]
            mappings.append(
                {
                    "role_id": role_id,
                    "onet_code": picks[0][0],
                    "onet_title": picks[0][1],
                    "tier": tier,
                    "score": {"HIGH": 0.95, "MEDIUM": 0.75, "LOW": 0.5}[tier],
                    "rationale": f"exact match on alternate title '{picks[0][1]}'",
                    "source": "offline",
                    "candidates": candidates,
                    "status": "proposed",
                    "release_id": picks[0][2],
                }
            )
        for start in range(0, len(mappings), 2000):
            session.execute(insert(Mapping), mappings[start : start + 2000])
        session.commit()
        return project.id


def bench_review(engine: Engine, roles: int) -> None:
    print(f"Review: a project of {roles:,} roles with proposals (20 candidates each)")
    ensure_release(engine)
    project_id = timed("set-up (upload + proposals, not a target)", lambda: make_review_project(engine, roles))
    with session_factory(engine)() as session:
        grid = timed("review_rows: all roles, LOW first", lambda: review_rows(session, project_id), repeat=5)
        timed(
            "review_rows: tier LOW + status proposed",
            lambda: review_rows(session, project_id, tiers=["LOW"], statuses=["proposed"]),
            repeat=5,
        )
        timed(
            "review_rows: text search 'engineer'", lambda: review_rows(session, project_id, text="engineer"), repeat=5
        )
        timed(
            "project_stats (progress bar, tier mix, major groups)", lambda: project_stats(session, project_id), repeat=5
        )
        first = int(grid.iloc[0]["role_id"])
        timed("role_detail (context, 20 candidates with top tasks)", lambda: role_detail(session, first), repeat=5)
        timed("confirm one role (commit + audit event)", lambda: confirm(session, first, "bench"))
        timed("next_unreviewed after it", lambda: next_unreviewed(session, project_id, first), repeat=5)
        high = review_rows(session, project_id, tiers=["HIGH"], statuses=["proposed"])
        bulk = timed(
            f"bulk_confirm all visible HIGH ({len(high):,} roles)",
            lambda: bulk_confirm(session, project_id, [int(i) for i in high["role_id"]], "bench"),
        )
        timed("undo_bulk", lambda: undo_bulk(session, bulk.id, "bench"))
        timed("export roles CSV", lambda: export_roles(session, project_id, "csv"))
        timed("export roles XLSX", lambda: export_roles(session, project_id, "xlsx"))
    print(f"Peak memory of the whole run: {peak_memory_mb():.0f} MB; load average {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the generated XLSX")
    parser.add_argument("--roles", type=int, default=20_000, help="unique roles of the review project")
    parser.add_argument("--postgres", action="store_true", help="use a fresh schema on the local Postgres")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-review", action="store_true")
    args = parser.parse_args()
    with fresh_store("postgres" if args.postgres else "sqlite") as engine:
        print(f"Store: {engine.url.render_as_string(hide_password=True)}; load average {load_average()}")
        if not args.skip_upload:
            bench_upload(engine, args.rows)
        if not args.skip_review:
            bench_review(engine, args.roles)


if __name__ == "__main__":
    main()
