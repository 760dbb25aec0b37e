"""CSV exports a spreadsheet cannot turn into formulas or extra rows; XLSX cells never cut silently."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from jobforge.db.engine import session_factory
from jobforge.db.models import Mapping, Role
from jobforge.export.writers import DANGEROUS_PREFIXES, XLSX_MAX_CELL_CHARS, csv_field, export_roles
from tests.factories import make_review_project

ATTACK = "Cook\r=2+3*cmd|' /C calc'!A0"
MULTILINE = "Nurse\n@SUM(1+1)\r\n-1+2, \"night\""
LONG = 40_000


@pytest.fixture
def hostile(onet_engine):
    """The review project with two hostile titles and a rationale longer than an XLSX cell."""
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session, session.begin():
        cook = session.get(Role, made.role_ids["Line Cook"])
        nurse = session.get(Role, made.role_ids["ICU Nurse"])
        cook.title, nurse.title = ATTACK, MULTILINE
        mapping = session.scalar(select(Mapping).where(Mapping.role_id == cook.id))
        mapping.rationale = "r" * LONG
    return onet_engine, made


def test_csv_cells_with_breaks_are_quoted_and_no_line_starts_a_formula(hostile):
    engine, made = hostile
    with session_factory(engine)() as session:
        data = export_roles(session, made.project_id, "csv")
    text = data.decode("utf-8-sig")
    # Whatever a program takes for a line end (CR, LF or CRLF), no line it sees begins a formula.
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        assert not line.startswith(DANGEROUS_PREFIXES), line
    assert csv_field("x\ry") == '"x\ry"'
    # A CSV reader gets one row per role, each title whole, made inert line by line.
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(made.role_ids)
    titles = {row["title"] for row in rows}
    assert "Cook\r'=2+3*cmd|' /C calc'!A0" in titles
    assert "Nurse\n'@SUM(1+1)\r\n'-1+2, \"night\"" in titles
    assert max(len(row["rationale"]) for row in rows) == LONG  # CSV has no cell limit: kept whole


def test_xlsx_keeps_text_exactly_and_marks_a_cell_it_had_to_cut(hostile):
    engine, made = hostile
    with session_factory(engine)() as session:
        data = export_roles(session, made.project_id, "xlsx")
    # calamine, as the upload reader, decodes the CR that XLSX stores as _x000D_ (openpyxl does not).
    grid = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Roles").to_python()
    rows = [dict(zip(grid[0], row, strict=True)) for row in grid[1:]]
    by_title = {row["title"]: row for row in rows}
    assert ATTACK in by_title and MULTILINE in by_title  # exactly as stored: no apostrophe needed in XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Roles"]
    assert all(row[1].data_type == "s" for row in sheet.iter_rows(min_row=2))  # text cells, never formulas
    cut = by_title[ATTACK]["rationale"]
    assert len(cut) <= XLSX_MAX_CELL_CHARS
    kept = cut.index(" [… ")
    assert cut[:kept] == "r" * kept
    assert cut.endswith(f"{LONG - kept:,} more characters cut: an XLSX cell holds 32,767; the CSV export has the full text]")
