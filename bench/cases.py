"""The real-world cases of ../shared/cases through the CLI and through the app, offline, O*NET 30.1.

    .venv/bin/python bench/cases.py                 # both ways
    .venv/bin/python bench/cases.py --only cli      # or: --only app

Each case file is mapped as an analyst would: ``python -m jobforge map FILE --column …`` (a
subprocess, the store in a temporary folder) and the Upload page under Streamlit's AppTest (upload,
"Add roles", "Map roles", the job run by a worker). The right answers are those of
../shared/cases/README.md (M2, the header-row case, belongs to the upload work and is left out).
Prints one line per title and a total; exits 1 when a case is wrong.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Expect:
    """What one title of a case must get."""

    codes: tuple[str, ...]  # acceptable code prefixes ("29-12"); () = no code is right too
    not_high: bool = False  # must not be HIGH (an exact match that is not sure)
    rows: int | None = None  # the role's row count (titles merged into it)
    no_code_ok: bool = False  # "not English: choose by hand" is an acceptable answer


PHYSICIAN = ("29-12",)
SOFTWARE = ("15-1252", "15-1251")
CASES: dict[str, tuple[str, dict[str, Expect], int]] = {
    # file: (title column, title -> expectation, number of roles)
    "C01_jobhopper379_doctor.csv": ("Job Title", {"Doctor": Expect(PHYSICIAN), "Physician": Expect(PHYSICIAN)}, 2),
    "C03_member_technical_staff.csv": (
        "Job Title",
        {
            "Member of Technical Staff": Expect(("15-1252",)),
            "Senior Member of Technical Staff": Expect(("15-1252",)),
            # O*NET files every "Back End" title under Web Developers (15-1254): the README's floor,
            # never HIGH on an unrelated code, is what is checked here.
            "Member of Technical Staff, Backend Platform": Expect(("15-1252", "15-1254"), not_high=True),
        },
        3,
    ),
    "C04_tech_lead.csv": (
        "Job Title",
        {"Tech Lead": Expect(SOFTWARE), "Technical Lead": Expect(SOFTWARE), "Sr. Tech Lead": Expect(SOFTWARE)},
        3,
    ),
    "C05_ap_teacher.csv": (
        "Job Title",
        {"AP Teacher": Expect(("25-2031",)), "AP Biology Teacher": Expect(("25-2031",))},
        2,
    ),
    "C06_soc_secops_analyst.csv": (
        "Job Title",
        {
            t: Expect(("15-1212",))
            for t in ("SOC Analyst", "SecOps Analyst", "Sec Ops Analyst", "Security Operations Analyst")
        },
        2,  # "SecOps Analyst" and "Sec Ops Analyst" are the role "Security Operations Analyst" (3 rows)
    ),
    "C08_cpp_csharp_dedup.csv": (
        "Job Title",
        {t: Expect(("15-",), rows=1) for t in ("C++ Developer", "C# Developer", "C Developer")},
        3,
    ),
    "C10_all_other_titles.csv": (
        "Job Title",
        {
            "Physicians, All Other": Expect(("29-1229.00",)),
            "Financial Specialists, All Other": Expect(("13-2099.00",)),
            "Designers, All Other": Expect(("27-1029.00",)),
            "Cooks, All Other": Expect(("35-2019.00",)),
            "Transportation Workers, All Other": Expect(("53-6099.00",)),
        },
        5,
    ),
    "C11_store_location_variants.csv": ("Job Title", {"Store Manager": Expect(("41-1011", "11-1021"), rows=5)}, 1),
    "M5_utf16_tab_unicode_text.txt": (
        "Stellenbezeichnung",
        {
            "Bäcker": Expect(("51-3011",), not_high=True, no_code_ok=True),
            "Buchhalter": Expect(("43-3031",), not_high=True, no_code_ok=True),
            "Elektriker": Expect(("47-2111",), not_high=True, no_code_ok=True),
        },
        3,
    ),
}


@dataclass
class Got:
    title: str
    code: str
    tier: str
    rows: int
    rationale: str


def check(case: str, got: list[Got]) -> list[str]:
    """Lines "ok/WRONG title -> code tier"; a missing or extra role is WRONG too."""
    _column, expected, roles = CASES[case]
    lines = []
    if len(got) != roles:
        lines.append(f"WRONG {case}: {len(got)} roles, expected {roles}")
    from jobforge.retrieval.normalize import title_key

    by_key = {title_key(item.title): item for item in got}  # a title is found in the role it merged into
    for title, expect in expected.items():
        item = by_key.get(title_key(title))
        if item is None:
            lines.append(f"WRONG {case}: no role for {title!r} (roles: {sorted(by_key)})")
            continue
        ok = item.code.startswith(expect.codes) if item.code else expect.no_code_ok
        ok = ok and not (expect.not_high and item.tier == "HIGH")
        ok = ok and (expect.rows is None or item.rows == expect.rows)
        verdict = "ok   " if ok else "WRONG"
        shown = f"{title!r}" + (f" (role {item.title!r})" if item.title != title else "")
        lines.append(f"{verdict} {shown} -> {item.code or '-'} {item.tier} rows={item.rows} | {item.rationale[:90]}")
    return lines


MAP = [sys.executable, "-m", "jobforge", "map"]


def via_cli(cases_dir: Path, env: dict[str, str]) -> dict[str, list[Got]]:
    out = {}
    for case, (column, _expected, _roles) in CASES.items():
        run = subprocess.run(
            [*MAP, str(cases_dir / case), "--column", column, "--provider", "offline", "--project", f"cli {case}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        if run.returncode:
            raise SystemExit(f"map {case} failed: {run.stderr}")
        rows = csv.DictReader(io.StringIO(run.stdout))
        out[case] = [Got(r["title"], r["code"] or "", r["tier"], int(r["count"]), r["rationale"] or "") for r in rows]
    return out


def via_app(cases_dir: Path, store: str) -> dict[str, list[Got]]:
    from sqlalchemy import select
    from streamlit.testing.v1 import AppTest

    from jobforge.db.engine import get_engine, session_factory
    from jobforge.db.models import Mapping, Role
    from jobforge.jobs.worker import Worker
    from jobforge.projects import create_project

    engine = get_engine(store)
    out = {}
    for case, (column, _expected, _roles) in CASES.items():
        with session_factory(engine)() as s:
            project_id = create_project(s, f"app {case}", "bench").id
            s.commit()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["project_id"] = project_id
        at.run()
        at.switch_page("pages/upload.py").run()
        at.file_uploader[0].set_value((case, (cases_dir / case).read_bytes(), "text/csv")).run()
        key = next(k for k in at.session_state if k.startswith("title_col_"))
        if at.selectbox(key=key).value != column:
            at.selectbox(key=key).set_value(column).run()
        at.button(key="add_roles").click().run()
        at.radio(key="map_provider").set_value("offline").run()
        at.button(key="map_start").click().run()
        worker = Worker(engine)
        while worker.run_once():
            pass
        with session_factory(engine)() as s:
            rows = s.execute(
                select(Role.title, Role.row_count, Mapping.onet_code, Mapping.tier, Mapping.rationale)
                .join(Mapping, Mapping.role_id == Role.id)
                .where(Role.project_id == project_id)
            ).all()
        out[case] = [Got(t, code or "", tier or "", n, why or "") for t, n, code, tier, why in rows]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=ROOT.parent / "shared" / "cases")
    parser.add_argument("--only", choices=("cli", "app"))
    args = parser.parse_args()
    from jobforge.config import get_settings

    data = Path(tempfile.mkdtemp(prefix="jobforge_cases_"))
    store = f"sqlite:///{data / 'cases.db'}"
    env = {**os.environ, "JOBFORGE_DATA_DIR": str(data), "JOBFORGE_DATABASE_URL": store}
    env.update(JOBFORGE_USER="bench", JOBFORGE_APP_WORKER="false", JOBFORGE_PROVIDER="offline")
    os.environ.update(env)
    get_settings.cache_clear()
    source = get_settings().resolved_onet_source()
    subprocess.run(
        [sys.executable, "-m", "jobforge", "onet", "load", source], env=env, cwd=ROOT, check=True, capture_output=True
    )
    ways: dict[str, Callable[[], dict[str, list[Got]]]] = {
        "cli": lambda: via_cli(args.cases, env),
        "app": lambda: via_app(args.cases, store),
    }
    wrong = total = 0
    for way, run in ways.items():
        if args.only and way != args.only:
            continue
        for case, got in run().items():
            for line in check(case, got):
                print(f"{way:3} {case:34} {line}")
                total += 1
                wrong += line.startswith("WRONG")
    print(f"{total - wrong} of {total} right")
    raise SystemExit(1 if wrong else 0)


if __name__ == "__main__":
    main()
