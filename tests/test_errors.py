"""One error base: domain errors reach users as one sentence; bugs as one line plus a logged traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from jobforge import cli
from jobforge.errors import JobForgeError


def _run_with_handler(monkeypatch: pytest.MonkeyPatch, handler) -> int:
    def parser() -> argparse.ArgumentParser:
        p = argparse.ArgumentParser()
        p.set_defaults(handler=handler, command="boom")
        return p

    monkeypatch.setattr(cli, "build_parser", parser)
    return cli.main([])


def test_domain_errors_share_the_base() -> None:
    from jobforge.db.engine import StoreError
    from jobforge.imputation.overrides import OverrideError
    from jobforge.ingest.reader import IngestError
    from jobforge.mapping.factory import ProviderUnavailable
    from jobforge.onet.releases import UnknownRelease
    from jobforge.onet.repository import NoActiveRelease
    from jobforge.review.actions import ReviewError

    for error in (StoreError, OverrideError, IngestError, ProviderUnavailable, UnknownRelease, NoActiveRelease, ReviewError):
        assert issubclass(error, JobForgeError), error
    assert NoActiveRelease().message.startswith("No O*NET release is loaded")


def test_cli_prints_a_domain_error_as_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from jobforge.review.actions import ReviewError

    def handler(_args):
        raise ReviewError("Role 7 does not exist.")

    assert _run_with_handler(monkeypatch, handler) == 1
    assert capsys.readouterr().err == "error: Role 7 does not exist.\n"


def test_cli_prints_a_bug_as_one_line_and_logs_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def handler(_args):
        return {}["missing"]

    assert _run_with_handler(monkeypatch, handler) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: unexpected KeyError")
    log_file = Path(err.rsplit(" ", 1)[-1].strip())
    assert "Traceback" in log_file.read_text() and "missing" in log_file.read_text()


@pytest.fixture
def names_table(engine):
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE cli_names (name VARCHAR(40) UNIQUE)"))
        conn.execute(text("INSERT INTO cli_names (name) VALUES ('param-value-123')"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE cli_names"))


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("INSERT INTO cli_names (name) VALUES (:name)", "IntegrityError"),  # the same name again
        ("SELECT * FROM no_such_table WHERE name = :name", ""),  # Operational (SQLite) / Programming (Postgres)
    ],
)
def test_cli_prints_a_store_error_as_one_line_without_sql_or_parameters(
    names_table, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, statement: str, kind: str
) -> None:
    from sqlalchemy import text

    def handler(_args):
        with names_table.begin() as conn:
            conn.execute(text(statement), {"name": "param-value-123"})

    assert _run_with_handler(monkeypatch, handler) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: the store ") and kind in err
    assert "param-value-123" not in err and "SQL" not in err and "cli_names (name)" not in err
    log_file = Path(err.rsplit(" ", 1)[-1].strip())
    logged = log_file.read_text()
    assert "Traceback" in logged and statement.split(" (")[0].split(" WHERE")[0] in logged


def test_pages_show_a_store_error_as_one_short_line(names_table) -> None:
    from sqlalchemy import text

    from jobforge.ui.errors import reported

    shown: list[str] = []
    with reported("Confirm failed", show=shown.append) as outcome, names_table.begin() as conn:
        conn.execute(text("INSERT INTO cli_names (name) VALUES (:name)"), {"name": "param-value-123"})
    assert not outcome.ok and shown == [outcome.message]
    assert outcome.message.startswith("Confirm failed: an unexpected error happened (IntegrityError)")
    assert "param-value-123" not in outcome.message and "INSERT" not in outcome.message
