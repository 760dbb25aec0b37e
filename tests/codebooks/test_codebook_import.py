"""Codebook import: every code system, crosswalk splits, one transaction, counted skips, audit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from jobforge.codebooks.service import CodebookError, delete_codebook, import_codebook, list_codebooks, set_enabled
from jobforge.config import get_settings
from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Codebook, CodebookEntry


def csv_bytes(rows: list[tuple[str, str]], columns: tuple[str, str] = ("Job Title", "SOC")) -> bytes:
    return pd.DataFrame(rows, columns=list(columns)).to_csv(index=False).encode()


def entries(engine: Engine) -> dict[str, list[list[str]]]:
    with session_factory(engine)() as session:
        found: dict[str, list[list[str]]] = {}
        for title, codes in session.execute(select(CodebookEntry.title, CodebookEntry.codes)):
            found.setdefault(title, []).append(codes)
        return found


def run_import(engine: Engine, data: bytes, system: str = "auto", **kwargs) -> object:
    with session_factory(engine)() as session:
        return import_codebook(session, "ada", data, "book.csv", "Job Title", "SOC", system=system, **kwargs)


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        ("onet2019", "15-1252.00", ["15-1252.00"]),
        ("soc2018", "15-1252", ["15-1252.00"]),
        ("onet2010", "15-1132.00", ["15-1252.00"]),  # 15-1253.00 is not in the tiny release
        ("soc2010", "15-1132", ["15-1252.00"]),
        ("auto", "15-1132", ["15-1252.00"]),
        ("auto", "13-2011.00", ["13-2011.00"]),
    ],
)
def test_every_code_system_is_read_as_codes_of_the_release(
    onet_engine: Engine, system: str, code: str, expected: list[str]
) -> None:
    result = run_import(onet_engine, csv_bytes([("Java Developer", code), ("", "15-1252.00"), ("Cook", "")]), system)
    assert result.imported == 1 and result.skipped == 2
    assert result.translated == (0 if code == "13-2011.00" or system == "onet2019" else 1)
    assert entries(onet_engine) == {"Java Developer": [expected]}


def test_a_2010_code_that_splits_keeps_all_its_2019_codes(
    onet_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crosswalk = tmp_path / "walk.csv"
    crosswalk.write_text(
        "O*NET-SOC 2010 Code,O*NET-SOC 2010 Title,O*NET-SOC 2019 Code,O*NET-SOC 2019 Title\n"
        "29-1111.00,Registered Nurses,29-1141.00,Registered Nurses\n"
        "29-1111.00,Registered Nurses,29-1141.01,Acute Care Nurses\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("JOBFORGE_CROSSWALK_SOURCE", str(crosswalk))
    get_settings.cache_clear()
    result = run_import(onet_engine, csv_bytes([("Staff Nurse", "29-1111.00")]), "onet2010")
    assert result.split == 1
    assert entries(onet_engine) == {"Staff Nurse": [["29-1141.00", "29-1141.01"]]}


def test_a_mix_of_systems_and_duplicates_with_different_codes_are_kept(onet_engine: Engine) -> None:
    rows = [("Java Developer", "15-1252.00"), ("Java Developer", "15-1132"), ("Java Developer", "43-4051")]
    result = run_import(onet_engine, csv_bytes(rows))
    assert result.imported == 3
    assert sorted(entries(onet_engine)["Java Developer"]) == [["15-1252.00"], ["15-1252.00"], ["43-4051.00"]]


def test_invalid_codes_name_their_rows_and_nothing_is_stored(onet_engine: Engine) -> None:
    rows = [("Java Developer", "15-1252.00")] + [(f"Title {i}", "99-9999") for i in range(25)]
    with pytest.raises(CodebookError) as caught:
        run_import(onet_engine, csv_bytes(rows))
    message = caught.value.message
    assert "25 row(s)" in message and "row 3: '99-9999'" in message and "and 5 more row(s)" in message
    with session_factory(onet_engine)() as session:
        assert session.scalar(select(func.count()).select_from(Codebook)) == 0
        assert session.scalar(select(func.count()).select_from(CodebookEntry)) == 0


def test_a_wrong_column_or_an_empty_file_is_refused(onet_engine: Engine) -> None:
    with pytest.raises(CodebookError, match="no code column 'Code'"), session_factory(onet_engine)() as session:
        import_codebook(session, "ada", csv_bytes([("Cook", "35-2014.00")]), "b.csv", "Job Title", "Code")
    with pytest.raises(Exception, match="empty"):
        run_import(onet_engine, b"")


def test_list_disable_and_delete_are_audited(onet_engine: Engine) -> None:
    result = run_import(onet_engine, csv_bytes([("Cook", "35-2014.00")]), name="Last year")
    with session_factory(onet_engine)() as session:
        set_enabled(session, "ada", result.codebook_id, False)
    with session_factory(onet_engine)() as session:
        (book,) = list_codebooks(session)
        assert (book.name, book.enabled, book.entries, book.imported_by) == ("Last year", False, 1, "ada")
    with session_factory(onet_engine)() as session:
        assert delete_codebook(session, "ada", result.codebook_id) == "Last year"
    with session_factory(onet_engine)() as session:
        assert list_codebooks(session) == []
        assert session.scalar(select(func.count()).select_from(CodebookEntry)) == 0
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions[-3:] == ["import_codebook", "disable_codebook", "delete_codebook"]
