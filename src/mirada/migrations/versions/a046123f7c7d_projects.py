"""projects

Revision ID: a046123f7c7d
Revises: a3002957eaa1
Create Date: 2026-11-27 17:22:22.311079
"""

import sqlalchemy as sa
from alembic import op

import mirada.db.base

revision = "a046123f7c7d"
down_revision = "a3002957eaa1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("serving_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_projects_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_projects_user_id")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_user_id"), ["user_id"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", mirada.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", mirada.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", mirada.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_jobs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_jobs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_project_id_id", ["project_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_state"), ["state"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("head_key", sa.String(length=255), nullable=False),
        sa.Column("class_names", sa.JSON(), nullable=False),
        sa.Column("class_ids", sa.JSON(), nullable=False),
        sa.Column("class_counts", sa.JSON(), nullable=False),
        sa.Column("example_count", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("backbone_version", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_model_versions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_model_versions_project_id")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_versions_project_id"), ["project_id"], unique=False
        )

    # projects and model_versions point at each other: the second link comes last.
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_projects_serving_version_id_model_versions"),
            "model_versions",
            ["serving_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "project_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_classes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_classes")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_project_classes_project_id")),
    )
    op.create_table(
        "examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("image_key", sa.String(length=255), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_ready", sa.Boolean(), nullable=False),
        sa.Column("created_at", mirada.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["project_classes.id"],
            name=op.f("fk_examples_class_id_project_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_examples_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_examples")),
        sa.UniqueConstraint("project_id", "sha256", name=op.f("uq_examples_project_id")),
    )
    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.create_index("ix_examples_class_id_id", ["class_id", "id"], unique=False)
        batch_op.create_index(
            "ix_examples_project_id_embedded", ["project_id", "embedding_ready"], unique=False
        )

    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("confident", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("feedback_class_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("feedback_at", mirada.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_classifications_project_id_top_score", ["project_id", "top_score"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_classifications_feedback_class_id_project_classes"),
            "project_classes",
            ["feedback_class_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_classifications_version_id_model_versions"),
            "model_versions",
            ["version_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_classifications_project_id_projects"),
            "projects",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_classifications_project_id_projects"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_classifications_version_id_model_versions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_classifications_feedback_class_id_project_classes"), type_="foreignkey"
        )
        batch_op.drop_index("ix_classifications_project_id_top_score")
        batch_op.drop_column("feedback_at")
        batch_op.drop_column("feedback_class_id")
        batch_op.drop_column("confident")
        batch_op.drop_column("version_id")
        batch_op.drop_column("project_id")

    with op.batch_alter_table("examples", schema=None) as batch_op:
        batch_op.drop_index("ix_examples_project_id_embedded")
        batch_op.drop_index("ix_examples_class_id_id")

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_projects_serving_version_id_model_versions"), type_="foreignkey"
        )
    op.drop_table("examples")
    op.drop_table("project_classes")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_project_id"))

    op.drop_table("model_versions")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state"))
        batch_op.drop_index("ix_jobs_project_id_id")

    op.drop_table("jobs")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_user_id"))

    op.drop_table("projects")
