"""signup tokens: address confirmations and invitations

Revision ID: 5d1f3c9a7e20
Revises: b7d41c2e9f30
Create Date: 2026-11-30 18:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

import mirada.db.base

revision = "5d1f3c9a7e20"
down_revision = "b7d41c2e9f30"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signup_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", mirada.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_signup_tokens_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_tokens_token_hash")),
    )
    with op.batch_alter_table("signup_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signup_tokens_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signup_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signup_tokens_email"))
    op.drop_table("signup_tokens")
