"""project archiving: a project is archived (hidden, read-only) before it can be deleted

Revision ID: 0014_deletion
Revises: 0011_second_opinion
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_deletion"
down_revision = "0012_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("archived_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.drop_column("archived_by")
        batch.drop_column("archived_at")
