"""Export page: CSV / XLSX of roles or original rows, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Role
from jobforge.ingest.uploads import create_upload
from jobforge.review.actions import confirm
from tests.ui.conftest import USER


def _export(open_app, project_id, rows: str, fmt: str) -> bytes:
    at = open_app("export", project_id)
    at.radio(key="export_rows").set_value(rows)
    at.radio(key="export_fmt").set_value(fmt).run()
    at.button(key="export_prepare").click().run()
    assert not at.exception
    download = at.get("download_button")[0]
    assert download.proto.label.startswith(f"Download {fmt.upper()}")
    return at.session_state["export_ready"][1]  # the exact bytes handed to the download button


def _table(content: bytes, fmt: str) -> list[dict[str, object]]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, [c.value for c in row], strict=False)) for row in sheet.iter_rows(min_row=2)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_roles_export_carries_the_decision_and_keeps_codes_as_text(open_app, ui_engine, mapped_project, fmt):
    with session_factory(ui_engine)() as s:
        nurse = s.scalar(select(Role).where(Role.title == "Registered Nurse"))
        confirm(s, nurse.id, USER)
        s.commit()
    rows = _table(_export(open_app, mapped_project, "roles", fmt), fmt)
    assert len(rows) == 12
    nurse_row = next(r for r in rows if "Registered Nurse" in r.values())
    assert "29-1141.00" in nurse_row.values() and USER in nurse_row.values() and "confirmed" in nurse_row.values()
    codes = [v for r in rows for v in r.values() if isinstance(v, str) and len(v) == 10 and v[2] == "-"]
    assert codes, "SOC codes are exported as text"


def test_original_rows_export_joins_every_row_to_its_role(open_app, ui_engine, mapped_project):
    rows = _table(_export(open_app, mapped_project, "original", "csv"), "csv")
    assert len(rows) == 13  # every spreadsheet row, including both "staff accountant" spellings
    accountants = [r for r in rows if r.get("Job Title", "").lower() == "staff accountant"]
    assert len(accountants) == 2 and all("13-2011.00" in r.values() for r in accountants)


def test_formula_like_cells_are_neutralised(open_app, ui_engine, mapped_project):
    data = b'Job Title,Job Family\n"=HYPERLINK(""http://evil"",""x"")",Finance\n+Plus Role,Finance\n'
    with session_factory(ui_engine)() as s:
        create_upload(s, mapped_project, "evil.csv", data, None, "Job Title", {"job_family": "Job Family"}, [], USER)
    rows = _table(_export(open_app, mapped_project, "roles", "csv"), "csv")
    cells = [v for r in rows for v in r.values() if isinstance(v, str)]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert any("HYPERLINK" in c for c in cells)


def test_nothing_to_export_yet(open_app, ui_engine):
    from jobforge.projects import create_project

    with session_factory(ui_engine)() as s:
        project = create_project(s, "Empty", USER)
        s.commit()
        pid = project.id
    at = open_app("export", pid)
    assert any("Nothing to export yet" in i.value for i in at.info)


def test_large_original_xlsx_export_suggests_csv(open_app, mapped_project, monkeypatch):
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_EXPORT_XLSX_WARN_ROWS", "10")  # the project has 13 original rows
    get_settings.cache_clear()
    at = open_app("export", mapped_project)
    at.radio(key="export_rows").set_value("original")
    at.radio(key="export_fmt").set_value("xlsx").run()
    assert any("CSV is several times faster" in w.value for w in at.warning)
    at.radio(key="export_fmt").set_value("csv").run()
    assert not any("CSV is several times faster" in w.value for w in at.warning)
