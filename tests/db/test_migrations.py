"""Migrations keep what the store already holds (on SQLite and Postgres)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from jobforge.db.engine import make_engine
from jobforge.db.migrate import upgrade


def _store_at_0001(engine: Engine) -> Engine:
    upgrade(engine, "0001")
    return engine


def test_0002_marks_roles_still_confirmed_by_a_bulk_confirmation(tmp_path: Path) -> None:
    engine = _store_at_0001(make_engine(f"sqlite:///{tmp_path / 'old.db'}"))
    now = "2026-11-01 10:00:00"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO project (id, name, description, created_at) VALUES (1, 'P', '', '{now}')"))
        for role_id, title in ((1, "a"), (2, "b"), (3, "c")):
            conn.execute(
                text(
                    "INSERT INTO role (id, project_id, title, title_key, row_count, context, created_at) "
                    f"VALUES ({role_id}, 1, '{title}', '{title}', 1, '{{}}', '{now}')"
                )
            )
        for role_id, status, by in ((1, "confirmed", "ann"), (2, "confirmed", "bob"), (3, "proposed", None)):
            conn.execute(
                text(
                    "INSERT INTO mapping (role_id, onet_code, tier, score, rationale, source, status, confirmed_by,"
                    " candidates, created_at, updated_at) VALUES "
                    f"({role_id}, '15-1252.00', 'HIGH', 0.95, '', 'offline', '{status}', :by, '[]', '{now}', '{now}')"
                ),
                {"by": by},
            )
        conn.execute(
            text(
                "INSERT INTO audit_event (at, user, project_id, entity_type, action, after) VALUES "
                f"('{now}', 'ann', 1, 'bulk_action', 'bulk_confirm', '{{\"role_ids\": [1, 2, 3]}}')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        marks = dict(conn.execute(text("SELECT role_id, decided_in_bulk FROM mapping")).all())
        versions = {row[0] for row in conn.execute(text("SELECT version FROM mapping"))}
    # Role 2 was confirmed again by bob afterwards: one by one. Role 3 was never confirmed.
    assert marks == {1: 1, 2: 0, 3: 0}
    assert versions == {1}
