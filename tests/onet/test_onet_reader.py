"""Reading a release in the official text layout: both layouts, zip or folder, and bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from onet_fixture import ALTERNATE_TITLES, OCCUPATIONS, TASKS, write_release

from jobforge.onet.reader import ReleaseError, ReleaseSource


def _read(path: Path) -> dict[str, list[dict[str, str | None]]]:
    with ReleaseSource(path) as source:
        return {name: table.rows for name, table in source.tables()}


@pytest.mark.parametrize("layout", ["30", "legacy"])
@pytest.mark.parametrize("as_zip", [True, False], ids=["zip", "folder"])
def test_both_layouts_read_the_same_from_zip_or_folder(tmp_path: Path, layout: str, as_zip: bool) -> None:
    rows = _read(write_release(tmp_path, layout=layout, as_zip=as_zip))

    occupations = rows["Occupation Data.txt"]
    assert [(r["O*NET-SOC Code"], r["Title"]) for r in occupations] == [(c, t) for c, t, _ in OCCUPATIONS]
    alternates = rows["Alternate Titles.txt"]
    assert [(r["O*NET-SOC Code"], r["Alternate Title"], r["Short Title"]) for r in alternates] == ALTERNATE_TITLES
    assert len(rows["Task Statements.txt"]) == len(TASKS)
    # Every rating file the fixture writes is read, with its own columns.
    assert {"Skills.txt", "Knowledge.txt", "Work Styles.txt", "Education, Training, and Experience.txt"} <= set(rows)


def test_legacy_layout_has_the_redundant_title_column_but_reads_like_30(tmp_path: Path) -> None:
    with ReleaseSource(write_release(tmp_path, version="28_0", layout="legacy")) as legacy:
        header = legacy.table("Alternate Titles.txt", ()).header
    assert header[:2] == ["O*NET-SOC Code", "Title"]
    assert _read(write_release(tmp_path, version="30_0", layout="30"))["Task Statements.txt"][0]["Task"] == TASKS[0][2]


def test_na_and_crlf_become_clean_values(tmp_path: Path) -> None:
    rows = _read(write_release(tmp_path))
    president = next(r for r in rows["Alternate Titles.txt"] if r["Alternate Title"] == "President")
    assert president["Short Title"] is None  # "n/a" in the file
    assert all(not (value or "").endswith("\r") for r in rows["Occupation Data.txt"] for value in r.values())


def test_version_comes_from_the_file_name_or_the_read_me(tmp_path: Path) -> None:
    with ReleaseSource(write_release(tmp_path, version="28_3")) as source:
        assert source.version_hint() == "28_3"
    renamed = tmp_path / "release.zip"
    with zipfile.ZipFile(renamed, "w") as archive:
        archive.writestr("Read Me.txt", "O*NET 30.1 Database\r\nDecember 2025 Release\r\n")
    with ReleaseSource(renamed) as source:
        assert source.version_hint() == "30_1"


def test_a_missing_path_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match=r"O\*NET release not found: .*nowhere.zip"):
        ReleaseSource(tmp_path / "nowhere.zip")


def test_a_file_that_is_not_a_zip_says_so(tmp_path: Path) -> None:
    page = tmp_path / "db_30_1_text.zip"
    page.write_text("<html><body>Sign in</body></html>")
    with pytest.raises(ReleaseError, match=r"db_30_1_text.zip is not a readable zip file"):
        ReleaseSource(page)


def test_a_truncated_zip_says_so(tmp_path: Path) -> None:
    whole = write_release(tmp_path).read_bytes()
    cut = tmp_path / "db_29_8_text.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ReleaseError, match=r"not a readable zip file"):
        ReleaseSource(cut)


def test_a_missing_required_file_is_named(tmp_path: Path) -> None:
    with (
        pytest.raises(ReleaseError, match=r"The release has no 'Task Statements.txt'"),
        ReleaseSource(write_release(tmp_path, omit=("Task Statements.txt",))) as source,
    ):
        list(source.tables())


def test_a_wrong_header_names_the_file_and_the_missing_column(tmp_path: Path) -> None:
    broken = "O*NET-SOC Code\tAlt Title\tShort Title\tSource(s)\r\n11-1011.00\tCEO\tCEO\t08\r\n"
    path = write_release(tmp_path, replace={"Alternate Titles.txt": broken})
    with (
        pytest.raises(ReleaseError, match=r"Alternate Titles.txt: wrong header, missing column\(s\) Alternate Title"),
        ReleaseSource(path) as source,
    ):
        list(source.tables())


def test_a_malformed_code_names_the_file_line_and_code(tmp_path: Path) -> None:
    rows = "O*NET-SOC Code\tTitle\tDescription\r\n11-1011.00\tChief Executives\tLead.\r\n15-1252\tSoftware\tCode.\r\n"
    path = write_release(tmp_path, replace={"Occupation Data.txt": rows})
    with (
        pytest.raises(ReleaseError, match=r"Occupation Data.txt line 3: malformed O\*NET-SOC code '15-1252'"),
        ReleaseSource(path) as source,
    ):
        list(source.tables())


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    latin1 = "O*NET-SOC Code\tTitle\tDescription\r\n11-1011.00\tDirecteur g\xe9n\xe9ral\tLead.\r\n"
    path = write_release(tmp_path, as_zip=False)
    (path / "Occupation Data.txt").write_bytes(latin1.encode("latin-1"))
    with pytest.raises(ReleaseError, match=r"Occupation Data.txt: not UTF-8 text"), ReleaseSource(path) as source:
        list(source.tables())


def test_an_empty_required_file_is_named(tmp_path: Path) -> None:
    path = write_release(tmp_path, replace={"Task Statements.txt": ""})
    with pytest.raises(ReleaseError, match=r"Task Statements.txt: the file is empty"), ReleaseSource(path) as source:
        list(source.tables())
