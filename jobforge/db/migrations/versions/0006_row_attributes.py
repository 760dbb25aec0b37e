"""row attributes: how many rows of each upload hold each value of an attribute column, per role

Revision ID: 0006_row_attributes
Revises: 0005_upload
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_row_attributes"
down_revision = "0005_upload"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "row_value_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["upload.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("row_value_count") as batch:
        batch.create_index("ix_row_value_count_role_name", ["role_id", "name"], unique=False)
        batch.create_index("ix_row_value_count_upload_id", ["upload_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("row_value_count") as batch:
        batch.drop_index("ix_row_value_count_upload_id")
        batch.drop_index("ix_row_value_count_role_name")
    op.drop_table("row_value_count")
