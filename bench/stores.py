"""A fresh, migrated store for a benchmark: a temporary SQLite file or a Postgres schema.

The Postgres server is ``JOBFORGE_BENCH_POSTGRES_URL`` (default: the local test server); the
schema is dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from jobforge.db.engine import make_engine
from jobforge.db.migrate import upgrade

POSTGRES_URL = os.environ.get("JOBFORGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_store(kind: str) -> Iterator[Engine]:
    """``kind`` is "sqlite" or "postgres"; the store is migrated and empty."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jobforge_bench_") as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            try:
                upgrade(engine)
                yield engine
            finally:
                engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
