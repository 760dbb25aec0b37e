"""Shared fixtures: a fresh store on SQLite and on the real Postgres, and a tiny O*NET release.

Every store-backed test that takes ``engine`` runs twice: ``[sqlite]`` and ``[postgres]``.
Postgres gets a schema of its own per test session, dropped afterwards. Outside CI a Postgres
that is down skips its half; in CI (CI=true) that is a failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from onet_fixture import write_release
from sqlalchemy import Engine, text

from jobforge.db.engine import make_engine
from jobforge.db.migrate import upgrade

# The checkout and tests/ are on sys.path through pytest's `pythonpath` (pyproject.toml), so tests
# import `tests.factories`, `fakes…` and `onet_fixture` without editing sys.path themselves.
ROOT = Path(__file__).resolve().parent.parent

# The fake Anthropic/OpenAI server and its fixtures (fake_llm, fake_llm_env, fake_llm_client).
pytest_plugins = ["fakes.llm_fixtures"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("JOBFORGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The reference data beside the checkout (a worktree elsewhere points at it with JOBFORGE_SHARED_DIR).
SHARED = Path(os.environ.get("JOBFORGE_SHARED_DIR") or ROOT.parent / "shared")
SHARED_ONET_ZIP = SHARED / "onet" / "db_30_1_text.zip"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's ~/.jobforge, .env or real API keys."""
    from jobforge.config import get_settings

    monkeypatch.setenv("JOBFORGE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "JOBFORGE_DATABASE_URL", "JOBFORGE_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    _close_cached_engines()


def _close_cached_engines() -> None:
    """Close the pools the app and the CLI cached for this test's store (AppTest runs in-process).

    Without this every Postgres-backed UI test leaves its pool open and a long run exhausts the
    server's connections.
    """
    from jobforge.db.engine import dispose_engines

    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_resource.clear()
        st.cache_data.clear()  # e.g. provider status cached for 60 s would carry one test's keys into the next
    dispose_engines()


def _postgres_schema_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the server is down or refuses us
        admin.dispose()
        if IN_CI:
            pytest.fail(f"Postgres is required in CI but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"Postgres unreachable at {POSTGRES_URL}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _new_store(kind: str, tmp_path: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    for url in _postgres_schema_url():
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty store: SQLite, then Postgres."""
    yield from _new_store(request.param, tmp_path)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    yield from _new_store("sqlite", tmp_path)


@pytest.fixture
def tiny_release(tmp_path: Path) -> Path:
    """The tiny O*NET release as an official-layout zip."""
    return write_release(tmp_path)


@pytest.fixture
def onet_engine(engine: Engine, tiny_release: Path) -> Engine:
    """A fresh store (SQLite, then Postgres) with the tiny release loaded and active."""
    from jobforge.onet.loader import load_release

    load_release(engine, tiny_release)
    return engine


@pytest.fixture
def onet_sqlite(sqlite_engine: Engine, tiny_release: Path) -> Engine:
    from jobforge.onet.loader import load_release

    load_release(sqlite_engine, tiny_release)
    return sqlite_engine


@pytest.fixture(scope="session")
def real_onet_zip() -> Path:
    """The full 30.1 release beside the project; skipped only outside CI when absent."""
    if not SHARED_ONET_ZIP.exists():
        if IN_CI:
            pytest.fail(f"{SHARED_ONET_ZIP} is required in CI")
        pytest.skip("the O*NET 30.1 reference zip is not beside this checkout")
    return SHARED_ONET_ZIP
