"""The store on SQLite and Postgres: migrations, SQLite settings, and a store that is locked or gone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from onet_fixture import write_release
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError

from jobforge.config import get_settings
from jobforge.db.engine import StoreError, describe_url, get_engine, make_engine, session_factory
from jobforge.db.migrate import upgrade
from jobforge.db.models import Base, OnetOccupation, OnetRelease
from jobforge.onet.loader import load_release

UNREACHABLE = "postgresql://jobforge:s3cret-pw@127.0.0.1:1/jobforge"


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    # Running them again on an up-to-date store changes nothing and does not fail.
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with session_factory(engine)() as session:
        session.add(OnetOccupation(release_id=999, code="11-1011.00", title="Orphan"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_get_engine_creates_and_migrates_a_new_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "nested" / "jobforge.db"
    engine = get_engine(f"sqlite:///{path}")
    assert path.exists()
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with session_factory(engine)() as session:
        assert session.scalars(select(OnetRelease)).all() == []


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_has_foreign_keys_wal_and_a_busy_timeout(sqlite_engine: Engine) -> None:
    assert _pragma(sqlite_engine, "foreign_keys") == 1
    assert _pragma(sqlite_engine, "journal_mode") == "wal"
    assert _pragma(sqlite_engine, "busy_timeout") == 15_000  # the default, 15 s


def test_the_busy_timeout_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBFORGE_SQLITE_BUSY_TIMEOUT", "2.5")
    get_settings.cache_clear()
    assert _pragma(make_engine(f"sqlite:///{tmp_path / 'a.db'}"), "busy_timeout") == 2_500
    assert _pragma(make_engine(f"sqlite:///{tmp_path / 'b.db'}", busy_timeout=0.25), "busy_timeout") == 250


def test_an_unreachable_postgres_names_the_url_without_its_password() -> None:
    with pytest.raises(StoreError) as caught:
        get_engine(UNREACHABLE)
    message = str(caught.value)
    assert message.startswith("Cannot reach the store at postgresql+psycopg://jobforge:***@127.0.0.1:1/jobforge")
    assert "s3cret-pw" not in message
    assert describe_url(UNREACHABLE) == "postgresql+psycopg://jobforge:***@127.0.0.1:1/jobforge"


def test_loading_into_an_unreachable_postgres_is_a_clear_error(tmp_path: Path) -> None:
    engine = make_engine(UNREACHABLE)
    with pytest.raises(
        StoreError, match=r"Cannot load O\*NET: Cannot reach the store at .*:\*\*\*@127\.0\.0\.1:1"
    ) as caught:
        load_release(engine, write_release(tmp_path))
    assert "s3cret-pw" not in str(caught.value)


def test_a_locked_sqlite_store_is_a_clear_error_and_stays_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout=0.2)
    upgrade(engine)
    load_release(engine, write_release(tmp_path, version="29_9"))
    (tmp_path / "next").mkdir()
    newer = write_release(tmp_path / "next", version="30_0")

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is in the middle of writing
    try:
        with pytest.raises(StoreError, match=r"The store sqlite:///.*store\.db is locked by another connection"):
            load_release(engine, newer)
    finally:
        other.execute("ROLLBACK")
        other.close()

    with session_factory(engine)() as session:
        releases = {r.version: r.is_active for r in session.scalars(select(OnetRelease))}
        assert releases == {"29_9": True}
        assert len(session.scalars(select(OnetOccupation)).all()) == 8
    # Once the other writer is done, the same load goes through.
    assert load_release(engine, newer).version == "30_0"


def test_a_sqlite_store_in_a_folder_that_cannot_be_made_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match=r"Cannot create the folder of the store sqlite:////proc/no-such/jobforge\.db"):
        get_engine("sqlite:////proc/no-such/jobforge.db")
