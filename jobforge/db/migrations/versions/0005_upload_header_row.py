"""upload header row: the row an upload's header was read from (report titles above it are skipped)

Revision ID: 0005_upload
Revises: 0004_users_access
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_upload"
down_revision = "0004_users_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing uploads were read from their first non-empty row: NULL lets the reader find it again.
    with op.batch_alter_table("upload") as batch:
        batch.add_column(sa.Column("header_row", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upload") as batch:
        batch.drop_column("header_row")
