"""Reading uploads: encodings, delimiters, XLSX specifics and every bad input an analyst may bring."""

from __future__ import annotations

import io

import openpyxl
import pytest
import xlsxwriter

from jobforge.ingest.reader import IngestError, list_sheets, read_table, table_warnings

ROWS = [
    ["Job Title", "SOC Code", "Employee ID", "Department"],
    ["Café Manager", "11-1011", "00123", "Ops"],
    ["Señor Accountant", "13-2011", "00456", "Finance"],
]


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(delimiter.join(row) for row in rows).encode(encoding)


def xlsx_bytes(build) -> bytes:
    workbook = openpyxl.Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_csv_encodings_are_detected_and_accents_survive(encoding):
    df = read_table(csv_bytes(ROWS, encoding=encoding), "roles.csv")
    assert list(df.columns) == ROWS[0]
    assert list(df["Job Title"]) == ["Café Manager", "Señor Accountant"]


def test_non_utf8_csv_says_which_encoding_was_used():
    df = read_table(csv_bytes(ROWS, encoding="cp1252"), "roles.csv")
    assert any("cp1252" in warning for warning in table_warnings(df))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(delimiter):
    df = read_table(csv_bytes(ROWS, delimiter=delimiter), "roles.csv")
    assert list(df.columns) == ROWS[0]
    assert df.shape == (2, 4)


def test_codes_and_leading_zeros_stay_text():
    df = read_table(csv_bytes(ROWS), "roles.csv")
    assert list(df["SOC Code"]) == ["11-1011", "13-2011"]
    assert list(df["Employee ID"]) == ["00123", "00456"]


def test_quoted_csv_with_commas_in_values():
    data = b'Job Title,Description\n"Cook, Line","Prepares food; cleans"\n'
    df = read_table(data, "roles.csv")
    assert df.loc[0, "Job Title"] == "Cook, Line"


def test_xlsx_reads_cells_as_text_and_picks_sheets():
    def build(workbook):
        first = workbook.active
        first.title = "Notes"
        first.append(["Ignore me"])
        sheet = workbook.create_sheet("Roles")
        sheet.append(["Job Title", "SOC Code", "Employee ID", "FTE"])
        sheet.append(["Accountant", "13-2011", "00123", 3])
        sheet.append(["Nurse", "29-1141.00", "00456", 0.5])

    data = xlsx_bytes(build)
    assert list_sheets(data, "roles.xlsx") == ["Notes", "Roles"]
    df = read_table(data, "roles.xlsx", sheet="Roles")
    assert df.to_dict("records") == [
        {"Job Title": "Accountant", "SOC Code": "13-2011", "Employee ID": "00123", "FTE": "3"},
        {"Job Title": "Nurse", "SOC Code": "29-1141.00", "Employee ID": "00456", "FTE": "0.5"},
    ]
    # Without a sheet the first one is read.
    assert list(read_table(data, "roles.xlsx").columns) == ["Ignore me"]


def test_xlsx_unknown_sheet_lists_the_sheets():
    data = xlsx_bytes(lambda wb: wb.active.append(["Job Title"]))
    with pytest.raises(IngestError, match=r"no sheet named 'Other'.*Sheet"):
        read_table(data, "roles.xlsx", sheet="Other")


def test_xlsx_merged_cells_fill_top_left_only_and_warn():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["Job Family", "Job Title"])
        sheet.append(["Finance", "Accountant"])
        sheet.append([None, "Auditor"])
        sheet.merge_cells("A2:A3")

    df = read_table(xlsx_bytes(build), "roles.xlsx")
    assert list(df["Job Family"]) == ["Finance", ""]
    assert list(df["Job Title"]) == ["Accountant", "Auditor"]
    warnings = table_warnings(df)
    assert any("merged" in warning and "A2:A3" in warning for warning in warnings)


def test_xlsx_formulas_are_read_as_their_saved_values():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet("Roles")
    sheet.write_row(0, 0, ["Job Title", "Headcount"])
    sheet.write_formula(1, 0, '="Senior "&"Accountant"', None, "Senior Accountant")
    sheet.write_formula(1, 1, "=1+2", None, 3)
    workbook.close()
    df = read_table(buffer.getvalue(), "roles.xlsx")
    assert df.to_dict("records") == [{"Job Title": "Senior Accountant", "Headcount": "3"}]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"Job Title\nCook\n", "roles.pdf", "unsupported file type"),
        (b"Job Title\nCook\n", "roles", "unsupported file type"),
        (b"", "roles.csv", "is empty"),
        (b"   \r\n\r\n", "roles.csv", "is empty"),
        (b"Job Title,Job Title\nCook,Chef\n", "roles.csv", "duplicate column names: 'Job Title'"),
        (b"Title,Family,title\nCook,Food,x\n", "roles.csv", "duplicate column names: 'title'"),
        (b"12,34,56\n7,8,9\n", "roles.csv", "no header row"),
        (b",,\nCook,Food,1\n", "roles.csv", "no header row"),
        (b"not a zip at all", "roles.xlsx", "not a valid Excel"),
        (b"PK\x03\x04 old", "roles.xls", "Excel 97-2003"),
    ],
)
def test_bad_input_gets_a_clear_message(data, filename, message):
    with pytest.raises(IngestError, match=message):
        read_table(data, filename)


def test_empty_xlsx_sheet_is_reported():
    data = xlsx_bytes(lambda wb: None)
    with pytest.raises(IngestError, match="has no rows"):
        read_table(data, "roles.xlsx")


def test_duplicate_columns_in_xlsx_are_named():
    data = xlsx_bytes(lambda wb: (wb.active.append(["Title", "Dept", "Dept"]), wb.active.append(["a", "b", "c"])))
    with pytest.raises(IngestError, match="'Dept'"):
        read_table(data, "roles.xlsx")


def test_file_over_the_size_limit_is_refused(monkeypatch):
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    data = b"Job Title\n" + b"Accountant\n" * 100_000
    with pytest.raises(IngestError, match="over the upload limit of 1 MB"):
        read_table(data, "roles.csv")


def test_header_only_file_reads_as_no_rows():
    df = read_table(b"Job Title,Family\n", "roles.csv")
    assert list(df.columns) == ["Job Title", "Family"]
    assert len(df) == 0


def test_blank_lines_and_unnamed_empty_columns_are_dropped():
    df = read_table(b"Job Title,,Family\n\nCook,,Food\n\n", "roles.csv")
    assert list(df.columns) == ["Job Title", "Family"]
    assert df.to_dict("records") == [{"Job Title": "Cook", "Family": "Food"}]


def test_data_in_the_first_row_is_not_taken_for_a_header():
    data = b"Accountant,Finance\nNurse,Health\nAccountant,Finance\n"
    with pytest.raises(IngestError, match="no header row"):
        read_table(data, "roles.csv")


def test_leading_blank_rows_before_the_header_are_skipped():
    df = read_table(b",,\nJob Title,Family\nCook,Food\n", "roles.csv")
    assert df.to_dict("records") == [{"Job Title": "Cook", "Family": "Food"}]


def test_excel_separator_hint_line_is_honoured():
    df = read_table(b"sep=;\r\nJob Title;Family\r\nCook, Line;Food\r\n", "roles.csv")
    assert df.to_dict("records") == [{"Job Title": "Cook, Line", "Family": "Food"}]


def test_formulas_saved_without_values_are_reported():
    def build(workbook):
        sheet = workbook.active
        sheet.title = "Roles"
        sheet.append(["Job Title", "Headcount"])
        sheet.append(["Cook", "=1+2"])  # openpyxl stores the formula only, no value
        sheet.append(["Nurse", 2])

    df = read_table(xlsx_bytes(build), "roles.xlsx")
    assert df.to_dict("records") == [{"Job Title": "Cook", "Headcount": ""}, {"Job Title": "Nurse", "Headcount": "2"}]
    assert any("1 formula cell(s) saved without their values" in warning for warning in table_warnings(df))


def test_formulas_with_saved_values_are_read_and_said_so():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Job Title", "Headcount"])
    sheet.write(1, 0, "Cook")
    sheet.write_formula(1, 1, "=1+2", None, 3)
    workbook.close()
    df = read_table(buffer.getvalue(), "roles.xlsx")
    assert df.to_dict("records") == [{"Job Title": "Cook", "Headcount": "3"}]
    assert table_warnings(df) == [
        "Sheet 'Sheet1' has 1 formula cell(s): each was read as the value saved with the file, not recalculated."
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Job Title,Family\nCook,Food,Extra\nNurse,Health\n", "line 2 has 3 fields but the header has 2"),
        (b'Job Title,Family\n"Cook,Food\n', "never closed"),
    ],
)
def test_malformed_csv_lines_are_pointed_out(data, message):
    with pytest.raises(IngestError, match=message):
        read_table(data, "roles.csv")
