"""Exports: contents, codes kept as text, formula injection neutralised, provenance."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from jobforge.db.engine import session_factory
from jobforge.export.writers import ExportError, export_roles, neutralise
from jobforge.review.actions import choose_code, confirm
from tests.factories import make_project, make_review_project, upload_file


def read_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel-friendly UTF-8
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=x", "'\r'=x"),  # the line after the CR starts a formula too
        ("x\r=2+3*cmd|' /C calc'!A0", "x\r'=2+3*cmd|' /C calc'!A0"),
        ("a\n-b\r\n@c\n\tq", "a\n'-b\r\n'@c\n'\tq"),
        ("two\nlines", "two\nlines"),
        ("Cook", "Cook"),
        ("a=b", "a=b"),
        (3, 3),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_roles_csv_has_mapping_decision_attributes_and_provenance(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        confirm(session, made.role_ids["Staff Accountant"], "ann")
        choose_code(session, made.role_ids["Line Cook"], "53-3032.00", "bob")
        table = read_csv(export_roles(session, made.project_id, "csv"))
    assert len(table) == 6
    row = table.set_index("title").loc["Staff Accountant"]
    assert (row["row_count"], row["job_family"], row["onet_code"], row["onet_title"]) == (
        "2",
        "Finance",
        "13-2011.00",
        "Accountants and Auditors",
    )
    assert (row["tier"], row["status"], row["source"], row["confirmed_by"]) == ("HIGH", "confirmed", "offline", "ann")
    assert row["confirmed_at"].endswith("UTC") and row["unit_group"] == "13-2011"
    assert (row["Education"], row["Education [source]"], row["Education [confidence]"]) == ("Bachelor", "SOURCE", "1")
    # One of the role's two rows has a value, and it agrees with itself.
    assert row["Education [agreement]"] == "1 of 1 rows (1 of 2 have a value)"
    cook = table.set_index("title").loc["Line Cook"]
    assert (cook["onet_code"], cook["status"], cook["proposed_code"]) == ("53-3032.00", "overridden", "35-2014.00")
    assert set(table["onet_release"]) == {"29_9"} and table["exported_at"].str.endswith("UTC").all()
    # The spreadsheet's formula comes back inert.
    assert '\'=HYPERLINK("http://x")' in set(table["title"])
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in table.to_numpy().ravel())


def test_roles_xlsx_keeps_codes_as_text_and_has_an_about_sheet(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        data = export_roles(session, made.project_id, "xlsx", user="ann")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Roles", "About"]
    sheet = workbook["Roles"]
    header = [cell.value for cell in sheet[1]]
    code_col = header.index("onet_code") + 1
    unit_col = header.index("unit_group") + 1
    codes = [sheet.cell(row=r, column=code_col) for r in range(2, sheet.max_row + 1)]
    assert {cell.value for cell in codes if cell.value} == {
        "13-2011.00",
        "15-1252.00",
        "29-1141.00",
        "35-2014.00",
        "43-4051.00",
    }
    assert all(cell.data_type == "s" for cell in codes if cell.value)
    unit_groups = [sheet.cell(row=r, column=unit_col) for r in range(2, sheet.max_row + 1)]
    assert any(cell.value == "13-2011" and cell.data_type == "s" for cell in unit_groups)
    titles = [sheet.cell(row=r, column=header.index("title") + 1) for r in range(2, sheet.max_row + 1)]
    injected = [cell for cell in titles if "HYPERLINK" in cell.value]
    # XLSX stores strings as strings: the text is kept exactly, no apostrophe, and never runs as a formula.
    assert injected[0].value == '=HYPERLINK("http://x")' and injected[0].data_type == "s"
    row_counts = [sheet.cell(row=r, column=header.index("row_count") + 1).value for r in range(2, sheet.max_row + 1)]
    assert sorted(row_counts) == [1, 1, 1, 1, 1, 2]  # numbers stay numbers
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True)}
    assert about["O*NET release"] == "29_9" and about["Exported by"] == "ann"
    assert "CC BY 4.0" in about["O*NET credit"] and "O*NET Resource Center" in about["O*NET credit"]
    assert about["Exported at"].endswith("UTC")


def test_original_rows_export_joins_each_row_to_its_role(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        confirm(session, made.role_ids["Staff Accountant"], "ann")
        table = read_csv(export_roles(session, made.project_id, "csv", rows="original"))
        xlsx = export_roles(session, made.project_id, "xlsx", rows="original")
    assert len(table) == 7  # every original row, duplicates included
    assert list(table.columns[:7]) == [
        "source_file",
        "Job Title",
        "Job Family",
        "Department",
        "Headcount",
        "Education",
        "SOC",
    ]
    accountants = table[table["Job Title"].str.lower() == "staff accountant"]
    assert list(accountants["Headcount"]) == ["3", "2"]  # original values, not the role's
    assert set(accountants["onet_code"]) == {"13-2011.00"} and set(accountants["status"]) == {"confirmed"}
    # The role's attribute (imputed or from the file) sits beside the original column.
    assert set(accountants["Education (JobForge)"]) == {"Bachelor"}
    assert table.loc[table["Job Title"].str.startswith("'="), "onet_code"].item() == ""
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["Rows"]
    assert sheet.max_row == 8
    header = [cell.value for cell in sheet[1]]
    soc = [sheet.cell(row=r, column=header.index("SOC") + 1) for r in range(2, 4)]
    assert [(cell.value, cell.data_type) for cell in soc] == [("13-2011", "s"), ("13-2011", "s")]


def test_export_of_several_uploads_in_original_rows_mode(onet_engine):
    made = make_review_project(onet_engine)
    more = b"Title;Grade\nLINE COOK;G2\n"
    upload_file(onet_engine, made.project_id, more, title_column="Title", context={"level": "Grade"}, filename="more.csv")
    with session_factory(onet_engine)() as session:
        table = read_csv(export_roles(session, made.project_id, "csv", rows="original"))
    assert len(table) == 8
    last = table.iloc[-1]
    assert (last["source_file"], last["Title"], last["Grade"], last["onet_code"]) == (
        "more.csv",
        "LINE COOK",
        "G2",
        "35-2014.00",
    )


def test_bad_export_requests(onet_engine):
    made = make_review_project(onet_engine)
    with session_factory(onet_engine)() as session:
        with pytest.raises(ExportError, match="format"):
            export_roles(session, made.project_id, "pdf")
        with pytest.raises(ExportError, match="rows"):
            export_roles(session, made.project_id, "csv", rows="everything")
        with pytest.raises(ExportError, match="does not exist"):
            export_roles(session, 999, "csv")


def test_extra_context_fields_become_columns(onet_engine):
    project_id = make_project(onet_engine, "Ctx")
    data = b"Title,Cost Centre\nCook,CC-7\nCook,CC-7\n"
    upload_file(onet_engine, project_id, data, title_column="Title", context={"cost_centre": "Cost Centre"}, filename="r.csv")
    with session_factory(onet_engine)() as session:
        table = read_csv(export_roles(session, project_id, "csv"))
    assert table[["title", "row_count", "cost_centre"]].to_dict("records") == [
        {"title": "Cook", "row_count": "2", "cost_centre": "CC-7"}
    ]
