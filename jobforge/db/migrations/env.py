"""Alembic environment: uses the connection handed in by jobforge.db.migrate, or the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from jobforge.db.engine import normalise_url
from jobforge.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from jobforge.config import get_settings

    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
