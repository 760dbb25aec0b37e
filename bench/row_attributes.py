"""Row-level attributes at scale: counting what rows hold on upload, and the per-row exports.

The 200,000-row XLSX of ``upload_review.py`` (Education, Years Experience and Key Skills as
attribute columns; years differ person by person) is uploaded into a fresh store, then exported
as every original row (each row's own values kept, empty cells filled from the role) in CSV and
XLSX, and one row per role. Figures are wall-clock and the process's CPU time (the machine is shared).

Usage:
    .venv/bin/python bench/row_attributes.py                  # SQLite in /tmp
    .venv/bin/python bench/row_attributes.py --postgres       # a fresh schema on the local Postgres
    .venv/bin/python bench/row_attributes.py --rows 50000     # smaller, quicker
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from sqlalchemy import func, select  # noqa: E402
from stores import fresh_store  # noqa: E402
from upload_review import load_average, make_xlsx, peak_memory_mb, timed  # noqa: E402

from jobforge.db.engine import session_factory  # noqa: E402
from jobforge.db.models import RowValueCount  # noqa: E402
from jobforge.export.writers import export_roles  # noqa: E402
from jobforge.ingest.uploads import create_upload  # noqa: E402
from jobforge.projects import create_project  # noqa: E402

ATTRIBUTES = ["Education", "Years Experience", "Key Skills"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    path = make_xlsx(args.rows, Path(tempfile.gettempdir()) / f"jobforge_bench_{args.rows}.xlsx")
    data = path.read_bytes()
    print(f"load average before: {load_average()}")
    with fresh_store("postgres" if args.postgres else "sqlite") as engine:
        with session_factory(engine)() as session:
            project = create_project(session, "Bench", "bench")
            session.commit()
            project_id = project.id
        with session_factory(engine)() as session:
            upload = timed(
                f"create_upload, {args.rows:,} rows, 3 attribute columns",
                lambda: create_upload(
                    session,
                    project_id,
                    path.name,
                    data,
                    None,
                    "Job Title",
                    {"job_family": "Job Family"},
                    ATTRIBUTES,
                    "b",
                ),
            )
            counts = session.scalar(select(func.count()).select_from(RowValueCount))
            print(f"  {upload.summary.unique_roles:,} roles; {counts:,} stored counts (value x role x column)")
        for fmt, rows in (("csv", "original"), ("xlsx", "original"), ("csv", "roles"), ("xlsx", "roles")):
            with session_factory(engine)() as session:
                timed(
                    f"export_roles {fmt.upper()} {rows}",
                    lambda s=session, f=fmt, r=rows: export_roles(s, project_id, f, rows=r),
                )
    print(f"peak memory {peak_memory_mb():.0f} MB; load average after: {load_average()}")


if __name__ == "__main__":
    main()
