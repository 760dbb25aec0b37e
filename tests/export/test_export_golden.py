"""Golden files for the exports, in the manner of datasette's: the exact CSV bytes, and for XLSX every
cell's value, type and number format, compared with files kept under ``tests/export/golden/``.

A change in what an export writes fails here with a diff; when the change is meant, regenerate with
``JOBFORGE_UPDATE_GOLDEN=1 pytest tests/export/test_export_golden.py`` and review the diff in git.
"""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, date, datetime, time
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping
from jobforge.export.writers import export_roles
from jobforge.ingest.uploads import create_upload
from jobforge.review.actions import confirm
from tests.factories import make_review_project

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("JOBFORGE_UPDATE_GOLDEN") == "1"
EXPORTED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
CONFIRMED_AT = datetime(2026, 11, 1, 16, 45, tzinfo=UTC)


def staff_workbook() -> bytes:
    """A second upload as Excel writes it: numbers, dates, a date-time, text that looks like a number
    or a formula (stored as text cells), and an empty cell."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("Staff")
    day, moment = book.add_format({"num_format": "dd/mm/yyyy"}), book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write_row(0, 0, ["Job Title", "Years Experience", "Hire Date", "Badge", "Note"])
    rows = [
        ("Staff Accountant", 3, datetime(2021, 3, 15), "007", "=SUM(A1)"),
        ("Java Developer", 6.5, datetime(2019, 11, 2), "1200", "+44 20 7946 0000"),
        ("ICU Nurse", None, datetime(2024, 1, 31, 8, 30), 42, "plain"),
    ]
    for number, (title, years, hired, badge, note) in enumerate(rows, start=1):
        sheet.write_string(number, 0, title)
        if years is not None:
            sheet.write_number(number, 1, years)
        sheet.write_datetime(number, 2, hired, moment if hired.time() != time(0) else day)
        sheet.write(number, 3, badge)
        sheet.write_string(number, 4, note)
    book.close()
    return buffer.getvalue()


@pytest.fixture
def project(onet_engine) -> int:
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        create_upload(
            session,
            made.project_id,
            "staff.xlsx",
            staff_workbook(),
            "Staff",
            "Job Title",
            {},
            ["Years Experience", "Hire Date"],
            "ann",
        )
        confirm(session, made.role_ids["Staff Accountant"], "ann")
        session.commit()
        mapping = session.scalar(select(Mapping).where(Mapping.role_id == made.role_ids["Staff Accountant"]))
        mapping.confirmed_at = CONFIRMED_AT  # the one timestamp a decision writes
        session.commit()
    return made.project_id


def _export(engine, project_id: int, fmt: str, rows: str) -> bytes:
    with session_factory(engine)() as session:
        return export_roles(session, project_id, fmt, rows=rows, user="ann", at=EXPORTED_AT)


def _cells(data: bytes) -> dict[str, list[list[object]]]:
    """Every non-empty cell of every sheet: [coordinate, value, type, number format]."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    found: dict[str, list[list[object]]] = {}
    for sheet in book.worksheets:
        found[sheet.title] = [
            [cell.coordinate, _plain(cell.value), cell.data_type, cell.number_format]
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        ]
    return found


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime | date | time) else value


def _check(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(actual)
    assert path.exists(), f"no golden file {name}: run with JOBFORGE_UPDATE_GOLDEN=1"
    assert actual.decode("utf-8") == path.read_bytes().decode("utf-8")  # a readable diff on failure
    assert actual == path.read_bytes()


@pytest.mark.parametrize("rows", ["roles", "original"])
def test_csv_exports_match_their_golden_bytes(onet_engine, project, rows):
    data = _export(onet_engine, project, "csv", rows)
    assert data.startswith(b"\xef\xbb\xbf")
    _check(f"{rows}.csv", data)


@pytest.mark.parametrize("rows", ["roles", "original"])
def test_xlsx_exports_match_their_golden_cells(onet_engine, project, rows):
    cells = _cells(_export(onet_engine, project, "xlsx", rows))
    _check(f"{rows}.xlsx.json", (json.dumps(cells, indent=1, ensure_ascii=False) + "\n").encode())


def test_the_golden_rows_keep_each_rows_cells_as_the_file_had_them(onet_engine, project):
    """What the golden files pin, said plainly."""
    sheet = openpyxl.load_workbook(io.BytesIO(_export(onet_engine, project, "xlsx", "original")))["Rows"]
    header = [cell.value for cell in sheet[1]]
    staff = [row for row in sheet.iter_rows(min_row=2) if row[0].value == "staff.xlsx"]
    accountant = {name: cell for name, cell in zip(header, staff[0], strict=True)}
    assert (accountant["Years Experience"].value, accountant["Years Experience"].data_type) == (3, "n")
    assert accountant["Hire Date"].is_date and accountant["Hire Date"].number_format == "yyyy-mm-dd"
    assert (accountant["Badge"].value, accountant["Badge"].data_type) == ("007", "s")
    assert (accountant["Note"].value, accountant["Note"].data_type) == ("=SUM(A1)", "s")  # text, no apostrophe
    assert (
        accountant["Years Experience (JobForge)"].value == 3
        and accountant["Years Experience [source]"].value == "SOURCE"
    )
    nurse = {name: cell for name, cell in zip(header, staff[2], strict=True)}
    assert nurse["Hire Date"].number_format == "yyyy-mm-dd hh:mm:ss" and nurse["Badge"].value == 42
    assert nurse["Years Experience"].value is None and nurse["Years Experience (JobForge)"].value is None
    text = _export(onet_engine, project, "csv", "original").decode("utf-8-sig")
    # The first file's columns come first (empty here), then the workbook's as the reader showed them.
    assert "staff.xlsx,Staff Accountant,,,,,,3,2021-03-15,007,'=SUM(A1),1," in text
    assert "staff.xlsx,ICU Nurse,,,,,,,2024-01-31 08:30:00,42,plain,3," in text
