"""one active job per kind

Revision ID: a2bb1518bb4c
Revises: a046123f7c7d
Create Date: 2026-11-27 18:24:25.731051
"""

import sqlalchemy as sa
from alembic import op

revision = "a2bb1518bb4c"
down_revision = "a046123f7c7d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only the newest of any duplicate active jobs stays; the others could never finish.
    op.execute(
        "UPDATE jobs SET state = 'failed', error = 'worker_lost' "
        "WHERE state IN ('queued', 'running') AND id NOT IN ("
        "SELECT MAX(id) FROM jobs WHERE state IN ('queued', 'running') GROUP BY project_id, kind)"
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "uq_jobs_one_active",
            ["project_id", "kind"],
            unique=True,
            postgresql_where=sa.text("state IN ('queued', 'running')"),
            sqlite_where=sa.text("state IN ('queued', 'running')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_jobs_one_active",
            postgresql_where=sa.text("state IN ('queued', 'running')"),
            sqlite_where=sa.text("state IN ('queued', 'running')"),
        )
