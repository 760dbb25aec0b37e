"""users and project access: app_user (name, role) and project_member; creators become members

Revision ID: 0004_users_access
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_users_access"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "project_member",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(length=200), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "user_key"),
    )
    op.create_index("ix_project_member_user_key", "project_member", ["user_key"])
    _creators_become_members()


def _creators_become_members() -> None:
    """Each existing project's creator is its first member (as new projects get)."""
    bind = op.get_bind()
    project = sa.table("project", sa.column("id"), sa.column("created_by"), sa.column("created_at"))
    member = sa.table(
        "project_member",
        sa.column("project_id"),
        sa.column("user_key"),
        sa.column("user_name"),
        sa.column("added_at"),
        sa.column("added_by"),
    )
    rows = bind.execute(sa.select(project.c.id, project.c.created_by, project.c.created_at)).all()
    values = [
        {
            "project_id": project_id,
            "user_key": " ".join(creator.split()).casefold(),
            "user_name": " ".join(creator.split()),
            "added_at": created_at,
            "added_by": "migration",
        }
        for project_id, creator, created_at in rows
        if creator and creator.strip()
    ]
    if values:
        bind.execute(sa.insert(member), values)


def downgrade() -> None:
    op.drop_index("ix_project_member_user_key", table_name="project_member")
    op.drop_table("project_member")
    op.drop_table("app_user")
