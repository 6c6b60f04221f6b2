"""each example's embedding names the backbone that made it

Revision ID: e4b2c8d1f6a3
Revises: 5d1c3e7a9b20
Create Date: 2026-12-01 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "e4b2c8d1f6a3"
down_revision = "5d1c3e7a9b20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("embedding_backbone", sa.String(length=64), nullable=True))
    # Which backbone made an embedding before this revision is not known (a project could
    # be trained on one and later on another, keeping the embeddings of both): each is
    # tagged unknown, so that the project's next training computes it again.
    op.execute("UPDATE examples SET embedding_backbone = 'unknown' WHERE embedding_ready")
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.drop_index("ix_examples_project_id_embedded")
        batch_op.drop_column("embedding_ready")
        batch_op.create_index(
            "ix_examples_project_id_backbone", ["project_id", "embedding_backbone"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("embedding_ready", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The code before this revision cannot tell backbones apart: every example is embedded
    # again by the backbone it runs, rather than trained on another one's numbers.
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.drop_index("ix_examples_project_id_backbone")
        batch_op.drop_column("embedding_backbone")
        batch_op.create_index(
            "ix_examples_project_id_embedded", ["project_id", "embedding_ready"], unique=False
        )
