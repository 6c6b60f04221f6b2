"""job runners and pinned serving versions

Revision ID: 5d1c3e7a9b20
Revises: 5e1f0c7a9b21
Create Date: 2026-11-30 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import mirada.db.base

revision = "5d1c3e7a9b20"
down_revision = "5e1f0c7a9b21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("runner_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("runner_token", sa.String(length=64), nullable=True))
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("serving_pinned_at", mirada.db.base.UTCDateTime(timezone=True), nullable=True)
        )
    # A project served by another version than its newest had it chosen: keep it, pinned.
    op.execute(
        "UPDATE projects SET serving_pinned_at = CURRENT_TIMESTAMP "
        "WHERE serving_version_id IS NOT NULL AND serving_version_id <> ("
        "SELECT v.id FROM model_versions v WHERE v.project_id = projects.id "
        "ORDER BY v.number DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("serving_pinned_at")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("runner_token")
        batch_op.drop_column("runner_pid")
        batch_op.drop_column("runner_host")
