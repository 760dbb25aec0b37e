"""second opinions: samples of decided roles coded again blind, and their adjudication

Revision ID: 0011_second_opinion
Revises: 0006_row_attributes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_second_opinion"
down_revision = "0006_row_attributes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "second_opinion_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("coder_key", sa.String(length=200), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("include_bulk", sa.Boolean(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_second_opinion_sample_project_id", "second_opinion_sample", ["project_id"])
    op.create_index("ix_second_opinion_sample_coder_key", "second_opinion_sample", ["coder_key"])
    op.create_table(
        "second_opinion_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("first_code", sa.String(length=10), nullable=False),
        sa.Column("first_status", sa.String(length=16), nullable=False),
        sa.Column("first_by", sa.String(length=200), nullable=True),
        sa.Column("first_in_bulk", sa.Boolean(), nullable=False),
        sa.Column("first_version", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("second_code", sa.String(length=10), nullable=True),
        sa.Column("cannot_code", sa.Boolean(), nullable=False),
        sa.Column("second_note", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adjudication", sa.String(length=16), nullable=True),
        sa.Column("adjudicated_code", sa.String(length=10), nullable=True),
        sa.Column("adjudicated_by", sa.String(length=200), nullable=True),
        sa.Column("adjudicated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["sample_id"], ["second_opinion_sample.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["role_id"], ["role.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id", "role_id"),
    )
    op.create_index("ix_second_opinion_item_sample_id", "second_opinion_item", ["sample_id"])
    op.create_index("ix_second_opinion_item_role_id", "second_opinion_item", ["role_id"])


def downgrade() -> None:
    op.drop_index("ix_second_opinion_item_role_id", table_name="second_opinion_item")
    op.drop_index("ix_second_opinion_item_sample_id", table_name="second_opinion_item")
    op.drop_table("second_opinion_item")
    op.drop_index("ix_second_opinion_sample_coder_key", table_name="second_opinion_sample")
    op.drop_index("ix_second_opinion_sample_project_id", table_name="second_opinion_sample")
    op.drop_table("second_opinion_sample")
