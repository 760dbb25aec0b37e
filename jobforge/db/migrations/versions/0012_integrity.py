"""integrity: one active job per project and kind (partial unique index), and a job's lease token

Revision ID: 0012_integrity
Revises: 0011_second_opinion
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_integrity"
down_revision = "0013_codebooks"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('queued', 'running', 'retrying')"


def upgrade() -> None:
    op.add_column("job", sa.Column("lease", sa.String(length=32), nullable=True))
    # Duplicates queued before this revision (the old check-then-insert) would block the index:
    # the oldest active job of a project and kind stays, later ones are cancelled.
    op.execute(
        "UPDATE job SET status = 'cancelled', message = 'Cancelled: a duplicate of an earlier job' "
        f"WHERE {ACTIVE} AND project_id IS NOT NULL AND id > ("
        f"SELECT MIN(older.id) FROM job older WHERE older.project_id = job.project_id "
        f"AND older.kind = job.kind AND older.{ACTIVE})"
    )
    op.create_index(
        "uq_job_active_kind",
        "job",
        ["project_id", "kind"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_job_active_kind", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("lease")
