"""Migration 0011_second_opinion adds and removes its two tables on SQLite and Postgres."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from jobforge.db.migrate import alembic_config, upgrade

TABLES = {"second_opinion_sample", "second_opinion_item"}


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_second_opinion_tables_come_and_go_with_the_migration(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    _downgrade(engine, "0011_second_opinion-1")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables >= TABLES
    columns = {c["name"] for c in inspect(engine).get_columns("second_opinion_item")}
    assert {"first_code", "second_code", "cannot_code", "adjudication", "first_version"} <= columns
