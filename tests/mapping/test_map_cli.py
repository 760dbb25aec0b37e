"""`python -m jobforge map FILE`: one output row per unique role, stored as a project's mappings."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import Mapping, Project, Role
from jobforge.mapping.cli import OUTPUT_COLUMNS

ROWS = [
    ("Staff Accountant", "Finance"),
    ("staff  accountant", "Finance"),
    ("Software Engineer", "IT"),
    ("Line Cook", "Kitchen"),
    ("Line Cook", "Kitchen"),
    ("Line Cook", "Kitchen"),
    ("Truck Driver", "Logistics"),
    ('=HYPERLINK("http://x")', "Bad"),
]


@pytest.fixture
def store(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI pointed at the test store (the same URL the fixture engine uses)."""
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield onet_engine
    get_engine(url).dispose()


def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["Job Title", "Job Family"])


def stored_mappings(engine: Engine, project: str) -> dict[str, Mapping]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(Role.title, Mapping)
            .join(Mapping, Mapping.role_id == Role.id)
            .join(Project)
            .where(Project.name == project)
        )
        return {title: mapping for title, mapping in rows}


def check_output(table: pd.DataFrame, with_formula: bool = True) -> None:
    assert list(table.columns) == OUTPUT_COLUMNS
    assert len(table) == 4 + with_formula  # unique roles, not rows
    by_title = table.set_index("title")
    assert by_title.loc["Staff Accountant", "count"] == 2
    assert by_title.loc["Line Cook", "count"] == 3
    cook = by_title.loc["Line Cook"]
    assert (cook["code"], cook["onet_title"], cook["tier"]) == ("35-2014.00", "Cooks, Restaurant", "HIGH")
    assert float(cook["score"]) == 0.95 and cook["rationale"]
    nurse_free = by_title.loc["Software Engineer"]
    assert nurse_free["code"] == "15-1252.00"
    if with_formula:  # a formula-shaped title is written inert
        assert '\'=HYPERLINK("http://x")' in by_title.index


def test_map_csv_to_stdout(store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "people.csv"
    frame().to_csv(source, index=False)

    code = main(
        ["map", str(source), "--column", "Job Title", "--context", "family=Job Family", "--provider", "offline"]
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = pd.read_csv(io.StringIO(captured.out), dtype={"code": str})
    check_output(table)
    assert "Mapping" in captured.err  # the progress bar
    stored = stored_mappings(store, "people")  # project named after the file
    assert len(stored) == 5
    assert stored["Line Cook"].onet_code == "35-2014.00" and stored["Line Cook"].source == "offline"
    # Alternatives: "code title; …" of the top other candidates, never the proposal itself.
    for title, mapping in stored.items():
        others = [f"{c['code']} {c['title']}" for c in mapping.candidates if c["code"] != mapping.onet_code][:5]
        written = table.set_index("title").loc[title if not title.startswith("=") else "'" + title, "alternatives"]
        assert (written if isinstance(written, str) else "") == "; ".join(others)
    with session_factory(store)() as session:
        cook = session.scalar(select(Role).where(Role.title == "Line Cook"))
        assert cook.row_count == 3 and cook.job_family == "Kitchen"


def test_map_xlsx_to_xlsx_into_a_named_project(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "roles.xlsx"
    with pd.ExcelWriter(source) as writer:
        pd.DataFrame({"Notes": ["ignore me"]}).to_excel(writer, sheet_name="Readme", index=False)
        # (no formula-shaped title here: in a workbook Excel itself would evaluate it)
        frame().iloc[:-1].to_excel(writer, sheet_name="Roles", index=False)
    out = tmp_path / "out" / "mapped.xlsx"

    code = main(
        [
            "map",
            str(source),
            "--sheet",
            "Roles",
            "--column",
            "Job Title",
            "--project",
            "HR 2026",
            "--out",
            str(out),
            "--batch-size",
            "2",
        ]
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "No ANTHROPIC_API_KEY or OPENAI_API_KEY set: using the offline selector." in captured.err
    table = pd.read_excel(out, dtype={"code": str})
    check_output(table, with_formula=False)
    assert len(stored_mappings(store, "HR 2026")) == 4

    # Mapping the same file again adds its rows to the project's roles and maps nothing new.
    assert (
        main(
            [
                "map",
                str(source),
                "--sheet",
                "Roles",
                "--column",
                "Job Title",
                "--project",
                "HR 2026",
                "--out",
                str(tmp_path / "again.csv"),
            ]
        )
        == 0
    )
    assert "mapped now 0" in capsys.readouterr().err
    again = pd.read_csv(tmp_path / "again.csv", dtype={"code": str})
    assert again.set_index("title").loc["Line Cook", "code"] == "35-2014.00"


def test_anthropic_without_a_key_is_a_clear_error(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "people.csv"
    frame().to_csv(source, index=False)
    code = main(["map", str(source), "--column", "Job Title", "--provider", "anthropic"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("error: The anthropic provider cannot be used")
    assert "ANTHROPIC_API_KEY" in captured.err
    assert stored_mappings(store, "people") == {}  # nothing was stored


def test_bad_column_and_missing_file_are_clear_errors(
    store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "people.csv"
    frame().to_csv(source, index=False)
    assert main(["map", str(source), "--column", "Title", "--provider", "offline"]) == 1
    assert "'Title' is not in the file" in capsys.readouterr().err
    assert main(["map", str(tmp_path / "nope.csv"), "--provider", "offline"]) == 1
    assert "Cannot read" in capsys.readouterr().err
    assert main(["map", str(source), "--context", "colour=Job Family", "--provider", "offline"]) == 1
    assert "FIELD=COLUMN" in capsys.readouterr().err


def test_map_with_an_llm_provider(
    fake_llm_env, store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "llm.csv"
    frame().to_csv(source, index=False)
    code = main(["map", str(source), "--column", "Job Title", "--provider", "openai", "--batch-size", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    table = pd.read_csv(io.StringIO(captured.out), dtype={"code": str})
    assert len(table) == 5 and set(table["source"]) <= {"llm", "fallback"}
    assert table.set_index("title").loc["Line Cook", "code"] == "35-2014.00"
    # The formula-shaped title has no candidates (its reading finds none either), so no mapping call:
    # ceil(4 roles / 2 per call), and one reading call for the weakly retrieved titles.
    assert len(fake_llm_env.model_calls()) == 2 + 1


def test_map_says_which_titles_were_merged(store: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Places, store numbers, shifts and gender tags make no new role; the output says what merged."""
    source = tmp_path / "stores.csv"
    titles = ["Line Cook - Store #12", "Line Cook - Dallas TX", "Line Cook (m/w/d)", "Line Cook", "C++ Developer", "C# Developer"]
    pd.DataFrame({"Job Title": titles}).to_csv(source, index=False)

    assert main(["map", str(source), "--column", "Job Title", "--provider", "offline"]) == 0
    captured = capsys.readouterr()
    table = pd.read_csv(io.StringIO(captured.out), dtype=str, keep_default_na=False).set_index("title")
    assert sorted(table.index) == ["C# Developer", "C++ Developer", "Line Cook"]
    assert table.loc["Line Cook", "count"] == "4"
    assert table.loc["Line Cook", "merged_titles"] == "Line Cook - Store #12; Line Cook - Dallas TX; Line Cook (m/w/d)"
    assert table.loc["C++ Developer", "merged_titles"] == ""
    assert "“Line Cook - Store #12” + 2 others → “Line Cook” (4 rows)" in captured.err
