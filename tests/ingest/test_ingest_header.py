"""The header row is found below report titles, notes and blank rows (CSV and XLSX), or chosen by number."""

from __future__ import annotations

import io

import openpyxl
import pytest

from jobforge.ingest.header import find_header
from jobforge.ingest.reader import IngestError, read_table, table_warnings

REPORT_ROWS = [
    ["Acme Corp - Headcount by Job Title", None, None],
    ["As of 30 Sep 2026 - Confidential", None, None],
    [None, None, None],
    ["Employee ID", "Job Title", "Department"],
    ["E1", "Registered Nurse", "Nursing"],
    ["E2", "Staff Accountant", "Finance"],
    ["E3", "Forklift Operator", "Warehouse"],
]
TITLES = ["Registered Nurse", "Staff Accountant", "Forklift Operator"]


def workbook(*sheets: tuple[str, list[list[object]], str]) -> bytes:
    """(name, rows, state) per sheet; state 'visible' or 'hidden'. The report title is merged, as HR reports do."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows, state in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
        if rows == REPORT_ROWS:
            sheet.merge_cells("A1:C1")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_of(rows: list[list[object]]) -> bytes:
    return "\n".join(",".join("" if cell is None else str(cell) for cell in row) for row in rows).encode()


def test_xlsx_report_title_rows_and_a_blank_row_above_the_header():
    df = read_table(workbook(("Headcount", REPORT_ROWS, "visible")), "report.xlsx")
    assert list(df.columns) == ["Employee ID", "Job Title", "Department"]
    assert list(df["Job Title"]) == TITLES
    assert df.attrs["header_row"] == 4 and df.attrs["header_detected"] is True
    assert df.attrs["rows_above_header"] == 2
    assert "Sheet 'Headcount' has merged cells above the header (A1:C1): report titles, not read." in table_warnings(df)


def test_csv_report_title_rows_one_field_wide_above_the_header():
    df = read_table(csv_of(REPORT_ROWS), "report.csv")
    assert list(df.columns) == ["Employee ID", "Job Title", "Department"]
    assert list(df["Job Title"]) == TITLES and df.attrs["header_row"] == 4


def test_semicolon_csv_with_notes_and_blank_lines_above_the_header():
    data = "Export HR;;\nNote: contractors excluded;;\n;;\n\nName;Position;Team\nAna;Cook;Kitchen\nBo;Nurse;Ward 3\n"
    df = read_table(data.encode(), "export.csv")
    assert list(df.columns) == ["Name", "Position", "Team"] and df.attrs["header_row"] == 5
    assert list(df["Position"]) == ["Cook", "Nurse"]


def test_a_hidden_first_sheet_is_passed_over_and_the_header_found_on_the_visible_one():
    data = workbook(("Lookup", [["code"], ["x"]], "hidden"), ("Headcount", REPORT_ROWS, "visible"))
    df = read_table(data, "report.xlsx")
    assert df.attrs["sheet"] == "Headcount" and df.attrs["header_row"] == 4
    assert list(df["Job Title"]) == TITLES


def test_a_table_that_does_not_start_in_a1():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"], sheet["D3"] = "Report of roles", None
    sheet["C5"], sheet["D5"], sheet["E5"] = "Job Title", "Family", "Grade"
    sheet["C6"], sheet["D6"], sheet["E6"] = "Cook", "Kitchen", "G2"
    sheet["C7"], sheet["D7"], sheet["E7"] = "Nurse", "Care", "G5"
    buffer = io.BytesIO()
    book.save(buffer)
    df = read_table(buffer.getvalue(), "roles.xlsx")
    assert list(df.columns) == ["Job Title", "Family", "Grade"] and df.attrs["header_row"] == 5


def test_one_column_sheet_prefers_the_row_naming_the_title_over_a_report_title():
    df = read_table(b"Headcount report 2026\n\nJob Title\nCook\nNurse\n", "roles.csv")
    assert list(df.columns) == ["Job Title"] and list(df["Job Title"]) == ["Cook", "Nurse"]


def test_the_header_row_can_be_chosen_by_number():
    data = workbook(("Headcount", REPORT_ROWS, "visible"))
    df = read_table(data, "report.xlsx", header_row=4)
    assert df.attrs["header_detected"] is False and list(df["Job Title"]) == TITLES
    first = read_table(data, "report.xlsx", header_row=1)
    assert first.columns[0] == "Acme Corp - Headcount by Job Title"
    with pytest.raises(IngestError, match="row 3 is empty"):
        read_table(data, "report.xlsx", header_row=3)
    with pytest.raises(IngestError, match="row 99 is empty or outside the sheet"):
        read_table(csv_of(REPORT_ROWS), "report.csv", header_row=99)


def test_data_rows_before_any_header_mean_no_header():
    with pytest.raises(IngestError, match="no header row"):
        read_table(b"Report\n\nAccountant,Finance\nNurse,Health\nAccountant,Finance\n", "roles.csv")


def test_a_line_wider_than_its_header_below_it_is_still_pointed_out():
    with pytest.raises(IngestError, match="line 4 has 3 fields but the header has 2"):
        read_table(b"Report title\nJob Title,Family\nCook,Food\nNurse,Health,Extra\n", "roles.csv")


@pytest.mark.parametrize(
    ("rows", "header"),
    [
        ([["Job Title", "Family"], ["Cook", "Food"]], 0),
        ([["Report"], ["Job Title", "Family"], ["Cook", "Food"]], 1),
        ([["Report", ""], ["Printed 2026-01-01", ""], ["Title", "Dept"], ["Cook", "K"]], 2),
        ([["12", "34"], ["7", "8"]], None),
        ([["Job Title", ""], ["Cook", "Food"]], 0),  # a header naming the title over a wider table
    ],
)
def test_find_header(rows, header):
    assert find_header(rows) == header
