"""Which sheet is opened, placeholders, and text encodings guessed with charset-normalizer."""

from __future__ import annotations

import pytest

from jobforge.ingest.placeholders import is_placeholder
from jobforge.ingest.reader import decode_text, read_table, table_warnings
from jobforge.ingest.sheets import open_table
from jobforge.ingest.uploads import build_roles
from tests.ui.sheets import xlsx_bytes

NOTE = [["This workbook lists every employee as of 30 September."], ["The roster is on the next sheet."]]


def test_a_cover_note_first_opens_the_roster_and_says_why():
    book = xlsx_bytes({"Notes": NOTE, "Roster": [["Job Title", "Dept"], ["Cook", "Kitchen"], ["Nurse", "Ward"]]})
    opened = open_table(book, "roles.xlsx")
    assert opened.sheet == "Roster" and opened.title_problem is None
    assert opened.sheet_note == (
        "Opened on sheet 'Roster' (2 of 2): its column 'Job Title' is named like a job-title column. "
        "Passed over: 'Notes' has no title-like column."
    )


def test_a_header_naming_the_title_beats_a_sheet_whose_values_only_look_like_titles():
    lookup = [["Code", "Label"], ["A1", "Finance team"], ["B2", "Kitchen crew"]]
    roster = [["Employee", "Position"], ["Ana", "Cook"], ["Bo", "Nurse"]]
    opened = open_table(xlsx_bytes({"Lookup": lookup, "Roster": roster}), "roles.xlsx")
    assert opened.sheet == "Roster" and "'Lookup' has no column named like a job title" in opened.sheet_note


def test_titles_found_by_their_values_when_no_header_names_them():
    roster = [["Emp", "Bezeichnung"], ["1", "Line Cook"], ["2", "Truck Driver"], ["3", "Staff Nurse"]]
    opened = open_table(xlsx_bytes({"Notes": NOTE, "Roster": roster}), "roles.xlsx")
    assert opened.sheet == "Roster" and "'Bezeichnung' holds short, varied text like job titles" in opened.sheet_note


def test_a_sheet_without_titles_is_refused_when_chosen():
    book = xlsx_bytes({"Notes": NOTE, "Roster": [["Job Title"], ["Cook"]]})
    opened = open_table(book, "roles.xlsx", sheet="Notes")
    assert opened.sheet == "Notes"
    assert opened.title_problem.startswith("Sheet 'Notes' has no title-like column")
    assert "Choose another sheet (Roster)" in opened.title_problem


def test_a_workbook_with_no_titles_anywhere_opens_its_first_sheet_and_says_so():
    opened = open_table(xlsx_bytes({"A": NOTE, "B": [["Amount"], ["12"], ["13"]]}), "roles.xlsx")
    assert opened.sheet == "A" and opened.title_problem and opened.sheet_note is None


@pytest.mark.parametrize(
    "title",
    ["TBD", "tbd", "T.B.D.", "n/a", "N/A", "NA", "Vacant", "VACANT", "open req", "Open Req #1234", "REQ-2031",
     "various", "Various", "To be determined", "#N/A", "-", "?", "Unknown", "Open Position 3", "misc."],
)  # fmt: skip
def test_placeholders(title):
    assert is_placeholder(title)


@pytest.mark.parametrize(
    "title", ["Nurse", "Vacant - Registered Nurse", "General", "Opener", "Misc Clerk", "Other Driver", "🚀", "12345"]
)
def test_titles_that_are_not_placeholders(title):
    assert not is_placeholder(title)


def test_placeholders_count_as_blank_titles_and_are_listed():
    df = read_table(b"Job Title,Dept\nCook,K\nTBD,K\nTBD,K\nVacant,W\n,W\nn/a,W\nNurse,W\n", "roles.csv")
    built = build_roles(df, "Job Title")
    assert [role.title for role in built.roles] == ["Cook", "Nurse"]
    assert built.blank_titles == 5 and built.placeholders == {"TBD": 2, "Vacant": 1, "n/a": 1}
    assert built.notes("Job Title") == [
        "5 row(s) have no title in 'Job Title' (4 of them a placeholder: 'TBD', 'Vacant', 'n/a'); they are "
        "counted but are not roles."
    ]


def test_unique_roles_per_upload_are_capped(monkeypatch):
    from jobforge.config import get_settings
    from jobforge.ingest.reader import IngestError

    monkeypatch.setenv("JOBFORGE_UPLOAD_MAX_ROLES", "2")
    get_settings.cache_clear()
    df = read_table(b"Job Title\nCook\nNurse\nDriver\n", "roles.csv")
    with pytest.raises(IngestError, match="3 distinct titles, over the limit of 2 roles per upload"):
        build_roles(df, "Job Title")


@pytest.mark.parametrize(
    ("text", "encoding", "guessed"),
    [
        ("Job Title;Abteilung\nBäcker;Produktion\nSeñor Cook;Küche\n", "cp1252", "cp1252"),
        ("Intitulé du poste;Service\nRéceptionniste;Accueil\nÉlectricien;Maintenance\n", "cp1252", "cp1252"),
        ("Stanowisko,Dział\nKsięgowa,Finanse\nKierowca wózka,Magazyn\n", "cp1250", "cp1250"),
        ("Должность,Отдел\nБухгалтер,Финансы\nВодитель,Логистика\n", "cp1251", "cp1251"),
        ("Stellenbezeichnung\tAbteilung\r\nBäcker\tProduktion\r\n", "utf-16-le", "utf_16_le"),  # no BOM
    ],
)
def test_non_utf8_text_is_read_through_charset_normalizer(text, encoding, guessed):
    decoded, used = decode_text(text.encode(encoding))
    assert decoded == text and used == guessed


def test_the_guessed_encoding_is_a_warning():
    df = read_table("Job Title\nBäcker\nKüchenhilfe\n".encode("cp1252"), "roles.csv")
    assert list(df["Job Title"]) == ["Bäcker", "Küchenhilfe"]
    assert any("its encoding was guessed as cp1252 (Windows Western European)" in w for w in table_warnings(df))


def test_utf16_unicode_text_from_excel_is_read():
    text = "Stellenbezeichnung\tAbteilung\r\nBäcker\tProduktion\r\nBuchhalter\tFinanzen\r\n"
    df = read_table(b"\xff\xfe" + text.encode("utf-16-le"), "roles.txt")
    assert list(df["Stellenbezeichnung"]) == ["Bäcker", "Buchhalter"]
    assert any("UTF-16" in warning for warning in table_warnings(df))
