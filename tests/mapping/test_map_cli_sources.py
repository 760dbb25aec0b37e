"""`map` reads a file the way Upload does: the sheet with titles, the header row, attribute columns, warnings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import Mapping, Role, RoleAttribute, Upload
from tests.conftest import SHARED
from tests.ui.sheets import xlsx_bytes

REPORT = [
    ["Acme Corp - Headcount by Job Title", None, None],
    ["As of 30 Sep 2026 - Confidential", None, None],
    [None, None, None],
    ["Employee ID", "Job Title", "Department"],
    ["E1", "Registered Nurse", "Nursing"],
    ["E2", "Staff Accountant", "Finance"],
    ["E3", "Forklift Operator", "Warehouse"],
]
COVER_NOTE = [["This workbook lists every employee as of 30 September."], ["The roster is on the next sheet."]]
ROSTER = [
    ["Employee ID", "Job Title", "Job Family", "Education", "Years of Experience"],
    ["E1", "Line Cook", "Kitchen", "High school diploma", "2"],
    ["E2", "Truck Driver", "Fleet", "", "5"],
]


@pytest.fixture
def store(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield onet_engine
    get_engine(url).dispose()


def _titles(engine: Engine) -> set[str]:
    with session_factory(engine)() as session:
        return set(session.scalars(select(Role.title).join(Mapping, Mapping.role_id == Role.id)))


def test_report_title_rows_are_skipped_and_the_warnings_printed(store, tmp_path, capsys):
    source = tmp_path / "report.xlsx"
    source.write_bytes(xlsx_bytes({"Headcount": REPORT}, merge="A1:C1"))
    assert main(["map", str(source), "--provider", "offline"]) == 0
    err = capsys.readouterr().err
    assert "Header: row 4 (found automatically; 2 row(s) of titles or notes above it skipped)." in err
    assert "warning: Sheet 'Headcount' has merged cells above the header (A1:C1): report titles, not read." in err
    assert _titles(store) == {"Registered Nurse", "Staff Accountant", "Forklift Operator"}


def test_header_row_override(store, tmp_path, capsys):
    source = tmp_path / "report.csv"
    source.write_text("Headcount report\nJob Title,Dept\nCook,Kitchen\nNurse,Ward\n")
    assert main(["map", str(source), "--provider", "offline", "--header-row", "2"]) == 0
    assert "Header: row 2 (as chosen with --header-row" in capsys.readouterr().err
    assert _titles(store) == {"Cook", "Nurse"}
    with session_factory(store)() as session:
        assert session.scalar(select(Upload.header_row)) == 2
    # A header row that names no job title is refused with the reason, not mapped as junk.
    assert main(["map", str(source), "--provider", "offline", "--header-row", "3", "--project", "other"]) == 1
    assert "no title-like column" in capsys.readouterr().err


def test_the_sheet_with_titles_is_chosen_and_attributes_default_to_the_detected(store, tmp_path, capsys):
    source = tmp_path / "people.xlsx"
    source.write_bytes(xlsx_bytes({"Notes": COVER_NOTE, "Roster": ROSTER}))
    assert main(["map", str(source), "--provider", "offline"]) == 0
    err = capsys.readouterr().err
    assert "Opened on sheet 'Roster' (2 of 2)" in err and "'Notes' has no title-like column" in err
    with session_factory(store)() as session:
        assert session.scalar(select(Upload.sheet)) == "Roster"
        assert set(session.scalars(select(RoleAttribute.name))) == {"Education", "Years of Experience"}
    # --sheet still overrides, and is refused when it holds no titles.
    assert main(["map", str(source), "--provider", "offline", "--sheet", "Notes", "--project", "n"]) == 1
    assert "Sheet 'Notes' has no title-like column" in capsys.readouterr().err


def test_attribute_columns_are_chosen_like_on_upload(store, tmp_path, capsys):
    source = tmp_path / "people.xlsx"
    source.write_bytes(xlsx_bytes({"Notes": COVER_NOTE, "Roster": ROSTER}))
    assert main(["map", str(source), "--provider", "offline", "--attribute", "Years of Experience"]) == 0
    with session_factory(store)() as session:
        assert set(session.scalars(select(RoleAttribute.name))) == {"Years of Experience"}
    assert main(["map", str(source), "--provider", "offline", "--attribute", "Shoe Size", "--project", "x"]) == 1
    assert "--attribute 'Shoe Size' is not a column" in capsys.readouterr().err


def test_a_guessed_encoding_is_printed(store, tmp_path, capsys):
    source = tmp_path / "roles.csv"
    source.write_bytes("Job Title;Abteilung\nBäcker;Produktion\nSeñor Cook;Küche\n".encode("cp1252"))
    assert main(["map", str(source), "--provider", "offline"]) == 0
    err = capsys.readouterr().err
    assert "warning: 'roles.csv' is not UTF-8; its encoding was guessed as cp1252" in err
    assert _titles(store) == {"Bäcker", "Señor Cook"}


def test_m2_case_maps_its_three_titles(store, capsys):
    case = SHARED / "cases" / "M2_xlsx_report_title_rows.xlsx"
    if not case.exists():
        pytest.skip("the shared cases are not beside the checkout")
    assert main(["map", str(case), "--provider", "offline"]) == 0
    captured = capsys.readouterr()
    assert "Registered Nurse" in captured.out and "Forklift Operator" in captured.out
    assert "warning: Sheet 'Headcount' has merged cells above the header (A1:C1)" in captured.err
    assert _titles(store) == {"Registered Nurse", "Staff Accountant", "Forklift Operator"}


def test_a_hostile_workbook_is_refused_with_one_line(store, tmp_path, capsys):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "Job Title"
    workbook.active["XFD1048576"] = "x"
    source: Path = tmp_path / "sparse.xlsx"
    workbook.save(source)
    assert main(["map", str(source), "--provider", "offline"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "17,179,869,184 cells" in err and "JOBFORGE_UPLOAD_MAX_CELLS" in err
    assert len(err.strip().splitlines()) == 1
