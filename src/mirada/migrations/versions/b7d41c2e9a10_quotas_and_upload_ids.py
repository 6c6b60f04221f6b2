"""storage limits per user, photo sizes and client upload ids

Revision ID: b7d41c2e9a10
Revises: 5d1f3c9a7e20
Create Date: 2026-11-30 17:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d41c2e9a10"
down_revision = "5d1f3c9a7e20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("storage_limit_bytes", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("photo_limit", sa.Integer(), nullable=True))
    # Photos stored before sizes were recorded count as 0 bytes (their number still counts).
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("upload_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_examples_project_id_upload_id", ["project_id", "upload_id"], unique=False
        )
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_column("size_bytes")
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.drop_index("ix_examples_project_id_upload_id")
        batch_op.drop_column("upload_id")
        batch_op.drop_column("size_bytes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("photo_limit")
        batch_op.drop_column("storage_limit_bytes")
