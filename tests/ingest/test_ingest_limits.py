"""Uploads that cannot hurt the server: limits checked before parsing, a memory-bounded reading process."""

from __future__ import annotations

import pytest

from jobforge.config import get_settings
from jobforge.ingest.limits import UploadLimitError
from jobforge.ingest.reader import IngestError, read_table, table_warnings
from jobforge.ingest.sandbox import open_bounded
from tests.ingest.hostile import (
    nul_characters,
    one_megabyte_cell,
    shared_strings_bomb,
    sparse_max_dimension,
    sparse_undeclared,
)


@pytest.fixture
def setting(monkeypatch):
    def set_(name: str, value: object) -> None:
        monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()

    return set_


def test_a_workbook_spanning_the_whole_sheet_is_refused_before_parsing():
    # Parsed, this 5 KB file makes the reader allocate 512 GB and abort the process.
    with pytest.raises(UploadLimitError, match=r"1,048,576 rows × 16,384 columns.*JOBFORGE_UPLOAD_MAX_CELLS"):
        read_table(sparse_max_dimension(), "sparse.xlsx")


def test_far_apart_cells_are_found_without_a_declared_dimension():
    with pytest.raises(UploadLimitError, match="17,179,869,184 cells"):
        read_table(sparse_undeclared(), "sparse.xlsx")


def test_the_cell_limit_is_a_setting(setting):
    setting("JOBFORGE_UPLOAD_MAX_CELLS", 5)
    data = b"Job Title,Family\nCook,Kitchen\nNurse,Ward\n"
    assert len(read_table(data, "roles.csv")) == 2  # CSV: its size is the limit
    from tests.ui.sheets import xlsx_bytes

    book = xlsx_bytes({"Roles": [["Job Title", "Family"], ["Cook", "Kitchen"], ["Nurse", "Ward"]]})
    with pytest.raises(UploadLimitError, match="over the limit of 5 cells"):
        read_table(book, "roles.xlsx")


def test_a_shared_strings_bomb_is_refused_before_parsing():
    with pytest.raises(UploadLimitError, match="holds a text of more than 16,777,216 bytes"):
        read_table(shared_strings_bomb(24), "bomb.xlsx")


def test_the_uncompressed_size_is_limited(setting):
    setting("JOBFORGE_UPLOAD_MAX_UNCOMPRESSED_MB", 4)
    with pytest.raises(UploadLimitError, match="expands to 8 MB when unzipped, over the limit of 4 MB"):
        read_table(shared_strings_bomb(8), "bomb.xlsx")


def test_a_cell_over_the_limit_is_refused_with_its_row():
    with pytest.raises(IngestError, match=r"row 3 \(A3\) has a cell of 1,048,576 characters, over the limit of 32,767"):
        read_table(one_megabyte_cell(), "big-cell.xlsx")


@pytest.mark.parametrize("delimiter", [",", "|"])
def test_a_csv_cell_over_128_kb_is_refused_with_its_row(delimiter):
    data = f"Job Title{delimiter}Notes\nCook{delimiter}fine\nNurse{delimiter}{'x' * 140_000}\n".encode()
    with pytest.raises(IngestError, match=r"row 3 \(column 2\) has a cell of 140,000 characters"):
        read_table(data, "roles.csv")


def test_nul_characters_from_xlsx_are_removed_and_reported():
    df = read_table(nul_characters(), "nul.xlsx")
    assert list(df["Job Title"]) == ["Line Cook"]
    assert any("NUL characters" in warning for warning in table_warnings(df))


def test_nul_titles_reach_the_store_without_a_raw_error(engine):
    from sqlalchemy import select

    from jobforge.db.engine import session_factory
    from jobforge.db.models import Role
    from tests.factories import make_project, upload_file

    upload_file(engine, make_project(engine), nul_characters(), filename="nul\x00.xlsx")
    with session_factory(engine)() as session:
        assert list(session.scalars(select(Role.title))) == ["Line Cook"]


def test_the_reading_process_refuses_what_the_limits_refuse():
    with pytest.raises(IngestError, match="17,179,869,184 cells"):
        open_bounded(sparse_max_dimension(), "sparse.xlsx")


def test_a_file_too_big_for_the_memory_limit_fails_alone(setting):
    import io

    from openpyxl import Workbook

    # 9 million cells (under the cell limit): the parser needs more than 400 MB and aborts.
    book = Workbook()
    book.active["A1"], book.active["J900000"] = "Job Title", "x"
    buffer = io.BytesIO()
    book.save(buffer)
    setting("JOBFORGE_UPLOAD_PARSE_MEMORY_MB", 400)
    with pytest.raises(IngestError, match="needs more than 400 MB of memory to read"):
        open_bounded(buffer.getvalue(), "wide.xlsx")
    # This process is untouched and reads the next file.
    assert open_bounded(b"Job Title\nCook\n", "roles.csv").frame.shape == (1, 1)


def test_the_reading_process_returns_the_table_the_upload_page_shows():
    from tests.ui.sheets import xlsx_bytes

    book = xlsx_bytes(
        {
            "Notes": [["This workbook lists every employee."], ["The roster is on the next sheet."]],
            "Roster": [["Job Title", "Education"], ["Cook", "None"], ["Nurse", "Bachelor"]],
        }
    )
    opened = open_bounded(book, "roles.xlsx")
    assert opened.sheet == "Roster" and opened.sheets == ["Notes", "Roster"]
    assert list(opened.frame["Job Title"]) == ["Cook", "Nurse"] and opened.guess.attributes == ["Education"]


def test_the_upload_size_is_checked_before_anything_is_read(setting):
    setting("JOBFORGE_MAX_UPLOAD_MB", 1)
    with pytest.raises(UploadLimitError, match="over the upload limit of 1 MB"):
        open_bounded(b"Job Title\n" + b"Cook\n" * 300_000, "roles.csv")
