"""decision marks: a version on every mapping and attribute, and which decisions were made in bulk

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mapping") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("decided_in_bulk", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("role_attribute") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    _mark_existing_bulk_confirmations()


def _mark_existing_bulk_confirmations() -> None:
    """Roles still confirmed by a bulk confirmation of the audit log are marked as bulk decisions."""
    bind = op.get_bind()
    events = sa.table("audit_event", sa.column("action"), sa.column("user"), sa.column("after", sa.JSON()))
    mapping = sa.table(
        "mapping", sa.column("role_id"), sa.column("status"), sa.column("confirmed_by"), sa.column("decided_in_bulk")
    )
    for user, after in bind.execute(sa.select(events.c.user, events.c.after).where(events.c.action == "bulk_confirm")):
        role_ids = list((after or {}).get("role_ids") or [])
        for start in range(0, len(role_ids), 500):
            bind.execute(
                sa.update(mapping)
                .where(
                    mapping.c.role_id.in_(role_ids[start : start + 500]),
                    mapping.c.status == "confirmed",
                    mapping.c.confirmed_by == user,
                )
                .values(decided_in_bulk=True)
            )


def downgrade() -> None:
    with op.batch_alter_table("role_attribute") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("mapping") as batch:
        batch.drop_column("decided_in_bulk")
        batch.drop_column("version")
