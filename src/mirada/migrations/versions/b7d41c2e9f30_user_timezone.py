"""user time zone

Revision ID: b7d41c2e9f30
Revises: a2bb1518bb4c
Create Date: 2026-11-30 18:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d41c2e9f30"
down_revision = "a2bb1518bb4c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("timezone")
