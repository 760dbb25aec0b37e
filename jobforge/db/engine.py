"""Engine and sessions for SQLite (default) and Postgres (psycopg 3)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from jobforge.errors import JobForgeError


class StoreError(JobForgeError, RuntimeError):
    """The store cannot be used (unreachable, locked, not migrated); the message says why."""


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# Execution option naming how a SQLite transaction begins ("IMMEDIATE" takes the write lock first).
SQLITE_BEGIN = "jobforge_sqlite_begin"


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    """Foreign keys on, WAL (readers never block the writer), and a bounded wait for a busy writer."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_begin(conn: Any) -> None:
    """Emit ``BEGIN IMMEDIATE`` for a transaction marked as a write (``for_write``).

    SQLAlchemy's pysqlite recipe, applied to writes only: pysqlite begins lazily, at the first
    INSERT/UPDATE, so the reads of a check-then-write ran outside the transaction. A marked write
    takes the write lock before its first read instead (a second writer waits, up to the busy
    timeout). Other transactions keep pysqlite's lazy begin: with ``isolation_level = None`` for all
    (the full recipe), a transaction that reads, then writes after another connection committed
    fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT ignores the busy timeout) —
    measured on the imputation job against its own heartbeat; with IMMEDIATE for all, every page
    read would queue behind the writers.
    """
    if conn.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def for_write(session: Session) -> Session:
    """Mark the transaction ``session`` is about to begin as a write; call first inside ``session.begin()``.

    On SQLite it then starts with ``BEGIN IMMEDIATE``: the write lock is taken before the first read,
    so a check-then-write is atomic (another writer waits up to the busy timeout, it never slips in
    between). On Postgres it changes nothing (row locks and conditional UPDATEs do that job).
    """
    session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
    return session


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """``with session.begin():`` for a write: one transaction, committed on exit, rolled back on error.

    It starts with ``BEGIN IMMEDIATE`` on SQLite (see ``for_write``). A read transaction the caller
    left open (a session used for reads first) is ended before, so the write never builds on an old
    snapshot; changes the caller left pending are an error rather than committed on its behalf.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("The session has unsaved changes: commit them before a write transaction.")
        session.commit()  # ends a read: there is nothing to write
    bind = session.get_bind()
    with _writer_turn(bind), session.begin():
        for_write(session)
        yield session


@contextmanager
def _writer_turn(bind: Any) -> Iterator[None]:
    """On SQLite, writers of this process take turns on a Python lock before BEGIN IMMEDIATE.

    SQLite's busy handler polls with growing sleeps (up to 100 ms each), so eight threads waiting
    for the write lock wait far longer than the writes take; a lock wakes the next one at once.
    Writers in other processes still wait through the busy timeout. Re-entrant: a nested write in
    the same thread behaves as it would without the lock.
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    engine = getattr(bind, "engine", bind)
    with _WRITER_LOCKS_GUARD:
        lock, timeout = _WRITER_LOCKS.setdefault(id(engine), (threading.RLock(), 15.0))
    if not lock.acquire(timeout=timeout):  # as long as SQLite itself would wait, then the same error
        where = describe_url(engine.url.render_as_string(hide_password=False))
        raise StoreError(
            f"The store {where} is locked by another connection that is writing "
            f"(gave up after waiting {timeout:g} s; try again when it has finished)."
        )
    try:
        yield
    finally:
        lock.release()


_WRITER_LOCKS: dict[int, tuple[threading.RLock, float]] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def make_engine(url: str, busy_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; ``busy_timeout`` (seconds, SQLite only) defaults to the setting."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the folder of the store {describe_url(url)}: {exc}") from exc
        if busy_timeout is None:
            from jobforge.config import get_settings

            busy_timeout = get_settings().sqlite_busy_timeout
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        with _WRITER_LOCKS_GUARD:
            _WRITER_LOCKS[id(engine)] = (threading.RLock(), busy_timeout)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 10})
    return create_engine(url, **kwargs)


def describe_url(url: str) -> str:
    """The URL without its password, for messages and the UI."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def store_error_message(engine: Engine, exc: OperationalError) -> str:
    """One line saying what is wrong with the store, naming it without its password."""
    where = describe_url(engine.url.render_as_string(hide_password=False))
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if "locked" in reason or "busy" in reason:
        return (
            f"The store {where} is locked by another connection that is writing "
            f"(gave up after waiting; try again when it has finished): {reason}"
        )
    return f"Cannot reach the store at {where}: {reason}"


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise StoreError(store_error_message(engine, exc)) from exc


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured store), migrated to head.

    Cached by the resolved URL, so a changed setting (tests, the CLI) gets its own store.
    """
    from jobforge.config import get_settings

    resolved = url or get_settings().resolved_database_url()
    with _ENGINES_LOCK:
        engine = _ENGINES.get(resolved)
        if engine is None:
            engine = _ENGINES[resolved] = _migrated_engine(resolved)
    return engine


def dispose_engines() -> None:
    """Close the pools of every engine ``get_engine`` made and forget them (tests, shutdown)."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.dispose()


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _migrated_engine(url: str) -> Engine:
    from jobforge.db.migrate import upgrade

    engine = make_engine(url)
    check_connection(engine)
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(store_error_message(engine, exc)) from exc
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
