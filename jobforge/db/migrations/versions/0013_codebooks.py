"""codebooks: imported files of decided titles and their entries

Revision ID: 0013_codebooks
Revises: 0011_second_opinion
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_codebooks"
down_revision = "0011_second_opinion"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "codebook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("title_column", sa.String(length=500), nullable=False),
        sa.Column("code_column", sa.String(length=500), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("imported_count", sa.Integer(), nullable=False),
        sa.Column("translated_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "codebook_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codebook_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_key", sa.String(length=500), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("written_code", sa.String(length=50), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["codebook_id"], ["codebook.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_codebook_entry_codebook_id", "codebook_entry", ["codebook_id"])


def downgrade() -> None:
    op.drop_index("ix_codebook_entry_codebook_id", table_name="codebook_entry")
    op.drop_table("codebook_entry")
    op.drop_table("codebook")
