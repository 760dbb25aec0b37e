"""`python -m jobforge codebook …` and `eval` with and without the decided titles (SQLite and Postgres)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import CodebookEntry

LABELS = """title,soc_code,source,onet_code,count,label_share,soc_version,soc2018_code,soc2018_candidates
Senior Data Wrangler,15-1252,hr,,2,1.0,2018,15-1252,15-1252
"""


@pytest.fixture
def store_url(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_engine(url).dispose()


def test_import_list_delete_and_eval_with_and_without_decisions(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "last_year.csv"
    rows = [("Data Wrangler", "15-1132"), ("", "15-1252"), ("Cook", "35-2014")]
    pd.DataFrame(rows, columns=["Title", "SOC 2010"]).to_csv(book, index=False)
    assert (
        main(
            [
                "codebook",
                "import",
                str(book),
                "--title-column",
                "Title",
                "--code-column",
                "SOC 2010",
                "--system",
                "soc2010",
                "--name",
                "Mapping 2025",
                "--user",
                "ada",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "2 entries imported, 2 translated" in out and "1 rows skipped" in out
    assert main(["codebook", "list"]) == 0
    assert "Mapping 2025\tenabled\t2 entries" in capsys.readouterr().out

    labels = tmp_path / "labels.csv"
    labels.write_text(LABELS, encoding="utf-8")
    assert main(["eval", str(labels), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["figures"][-1]["top1"] == 1.0
    assert main(["eval", str(labels), "--json", "--no-decisions"]) == 0
    assert json.loads(capsys.readouterr().out)["figures"][-1]["top1"] == 0.0

    book_id = "1"
    assert main(["codebook", "delete", book_id, "--user", "ada"]) == 0
    assert "Deleted codebook 1 'Mapping 2025'" in capsys.readouterr().out


def test_a_bad_code_column_is_one_clear_error(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book.csv"
    pd.DataFrame([("Cook", "oops"), ("Baker", "99-9999.00")], columns=["Title", "Code"]).to_csv(book, index=False)
    assert main(["codebook", "import", str(book), "--title-column", "Title", "--code-column", "Code"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 2 row(s) of 'book.csv'") and "row 2: 'oops'" in err and "row 3: '99-9999.00'" in err


def test_a_100000_row_codebook_imports_with_progress(store_url: str, tmp_path: Path) -> None:
    codes = ["15-1252.00", "35-2014", "15-1132", "43-4051.00"]
    rows = [(f"Role {i} Specialist", codes[i % 4]) for i in range(100_000)]
    book = tmp_path / "big.csv"
    pd.DataFrame(rows, columns=["Title", "Code"]).to_csv(book, index=False)
    seen: list[tuple[int, int]] = []
    from jobforge.codebooks.service import import_codebook

    with session_factory(get_engine(store_url))() as session:
        result = import_codebook(
            session, "ada", book.read_bytes(), "big.csv", "Title", "Code", progress=lambda d, t, m: seen.append((d, t))
        )
    assert result.imported == 100_000 and result.translated == 50_000
    assert seen[-1] == (100_000, 100_000) and len(seen) > 1
    with session_factory(get_engine(store_url))() as session:
        assert session.scalar(select(func.count()).select_from(CodebookEntry)) == 100_000
