"""Migration 0014_deletion adds and removes the project's archive columns on SQLite and Postgres."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from jobforge.db.migrate import alembic_config, upgrade

COLUMNS = {"archived_at", "archived_by"}


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("project")}


def test_archive_columns_come_and_go_with_the_migration(engine: Engine) -> None:
    assert _columns(engine) >= COLUMNS
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0014_deletion-1")
    assert not COLUMNS & _columns(engine)
    upgrade(engine)
    assert _columns(engine) >= COLUMNS
