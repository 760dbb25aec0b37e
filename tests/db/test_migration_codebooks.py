"""Migration 0013_codebooks adds and removes the codebook tables on SQLite and Postgres."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from jobforge.db.migrate import alembic_config, upgrade

TABLES = {"codebook", "codebook_entry"}


def test_codebook_tables_come_and_go_with_the_migration(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0013_codebooks-1")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("codebook_entry")}
    assert {"title", "title_key", "codes", "written_code", "translation"} <= columns
