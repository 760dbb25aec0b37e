"""How long attribute imputation takes on a synthetic project over the full O*NET release.

    .venv/bin/python bench/imputation.py                        # SQLite, 5,000 roles, no LLM
    .venv/bin/python bench/imputation.py --store postgres --roles 5000
    .venv/bin/python bench/imputation.py --llm-roles 200         # plus the LLM step via the fake server

A fresh store (a temporary SQLite file, or a new schema on the Postgres server at
``JOBFORGE_BENCH_POSTGRES_URL``, default the test server) gets the configured O*NET release and a
project of ``--roles`` roles in 100 job families with 6 attribute columns, 30% of the cells filled
from the "file" (SOURCE; in half the families 80% of those agree, in the others they are random),
70% of roles with a confirmed mapping and the rest with a proposal, codes drawn from all
occupations (rated or not). Prints wall-clock seconds of ``impute_project`` for the
inheritance + O*NET steps, the values by source, and a second (idempotent) run. ``--llm-roles``
then runs the LLM step for that many roles against the fake Anthropic server (tests/fakes), which
answers instantly: it measures JobForge's own overhead per call, not a provider's latency.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

ATTRIBUTES = ["Education", "Experience", "Key Skills", "Work Environment", "Shift Pattern", "Main Duties"]
SOURCE_VALUES = {
    "Education": ["Bachelor's degree", "High school", "Master's degree"],
    "Experience": ["1-2 years", "3-5 years", "None"],
    "Key Skills": ["Communication", "Excel; SQL", "Customer service"],
    "Work Environment": ["Office", "Ward", "Warehouse", "Remote"],
    "Shift Pattern": ["Days", "Nights", "Rotating"],
    "Main Duties": ["Varied", "Operations", "Support"],
}


def build_synthetic_project(engine, roles: int, seed: int = 7) -> int:
    from sqlalchemy import insert, select

    from jobforge.db.engine import session_factory
    from jobforge.db.models import Mapping, OnetOccupation, Project, Role, RoleAttribute, SourceType, Upload

    rng = random.Random(seed)
    with session_factory(engine)() as session:
        codes = list(session.scalars(select(OnetOccupation.code)))
        project = Project(name=f"bench-{uuid.uuid4().hex[:6]}")
        session.add(project)
        session.flush()
        upload = Upload(project_id=project.id, filename="bench.csv", title_column="Title", attribute_columns=ATTRIBUTES)
        session.add(upload)
        session.flush()
        role_rows = [
            {
                "project_id": project.id,
                "upload_id": upload.id,
                "title": f"Role {i}",
                "title_key": f"role {i}",
                "job_family": f"Family {i % 100}",
                "job_function": f"Function {i % 17}",
                "context": {},
            }
            for i in range(roles)
        ]
        session.execute(insert(Role), role_rows)
        role_ids = list(session.scalars(select(Role.id).where(Role.project_id == project.id).order_by(Role.id)))
        attributes, mappings = [], []
        for position, role_id in enumerate(role_ids):
            family = position % 100
            agreeing_family = family % 2 == 0  # in half the families, roles mostly share their values
            family_bias = family % 3
            for name in ATTRIBUTES:
                if rng.random() < 0.3:
                    choices = SOURCE_VALUES[name]
                    value = choices[family_bias] if agreeing_family and rng.random() < 0.8 else rng.choice(choices)
                    attributes.append(
                        {
                            "role_id": role_id,
                            "name": name,
                            "value": value,
                            "source_type": SourceType.SOURCE,
                            "details": {},
                        }
                    )
            status = "confirmed" if rng.random() < 0.7 else "proposed"
            mappings.append(
                {
                    "role_id": role_id,
                    "onet_code": rng.choice(codes),
                    "tier": "HIGH",
                    "score": 0.95,
                    "source": "offline",
                    "status": status,
                    "candidates": [],
                }
            )
        session.execute(insert(RoleAttribute), attributes)
        session.execute(insert(Mapping), mappings)
        session.commit()
        return project.id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--roles", type=int, default=5000)
    parser.add_argument("--llm-roles", type=int, default=0, help="also run the LLM step for this many roles")
    parser.add_argument("--zip", help="release zip (default: the configured O*NET source)")
    args = parser.parse_args()

    from jobforge.config import get_settings
    from jobforge.db.engine import session_factory
    from jobforge.imputation.service import impute_project
    from jobforge.onet.loader import load_release

    zip_path = args.zip or get_settings().resolved_onet_source()
    if not zip_path:
        print("No O*NET release found: pass --zip or set JOBFORGE_ONET_SOURCE", file=sys.stderr)
        return 1
    from stores import fresh_store

    with fresh_store(args.store) as engine:
        load_release(engine, zip_path)
        project_id = build_synthetic_project(engine, args.roles)
        print(
            f"Imputation benchmark on {args.store}: {args.roles:,} roles x {len(ATTRIBUTES)} attributes "
            f"(cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f})"
        )
        for label in ("first run", "re-run"):
            with session_factory(engine)() as session:
                started = time.perf_counter()
                summary = impute_project(session, project_id, steps=("hierarchy", "onet"))
                seconds = time.perf_counter() - started
            print(
                f"  {label:9s} hierarchy+onet: {seconds:.1f} s ({args.roles / seconds:,.0f} roles/s); "
                f"cells {summary.counts}; written {summary.written}"
            )
        if args.llm_roles:
            _bench_llm(engine, args.llm_roles)
    return 0


def _bench_llm(engine, roles: int) -> None:
    from fakes.imputation_answers import ImputationAnswerer
    from fakes.llm_server import FakeLLMServer

    from jobforge.config import get_settings
    from jobforge.db.engine import session_factory
    from jobforge.imputation.service import impute_project

    project_id = build_synthetic_project(engine, roles, seed=11)
    with FakeLLMServer() as server:
        server.answerers.insert(0, ImputationAnswerer())
        os.environ.update({"ANTHROPIC_API_KEY": "bench", "JOBFORGE_ANTHROPIC_BASE_URL": server.anthropic_base_url})
        get_settings.cache_clear()
        with session_factory(engine)() as session:
            impute_project(session, project_id, steps=("hierarchy", "onet"))
            started = time.perf_counter()
            summary = impute_project(session, project_id, provider="anthropic", steps=("llm",))
            seconds = time.perf_counter() - started
    print(
        f"  LLM step (fake server, concurrency {get_settings().llm_concurrency}): {summary.llm_calls} calls in "
        f"{seconds:.1f} s ({summary.llm_calls / seconds:.1f} calls/s); cells {summary.counts}"
    )


if __name__ == "__main__":
    sys.exit(main())
