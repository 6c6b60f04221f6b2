"""A project: the user's own classes, their labelled examples and the trained versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mirada.db.base import Base, UTCDateTime, utcnow
from mirada.db.names import KeyedName

DEFAULT_THRESHOLD = 0.5


class Project(KeyedName, Base):
    """A set of classes a user teaches Mirada."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("user_id", "name_key", name="uq_projects_user_id_name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    threshold: Mapped[float] = mapped_column(Float, default=DEFAULT_THRESHOLD)
    serving_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL", use_alter=True), default=None
    )
    # None: the newest version serves as soon as it is trained; else when the user pinned one.
    serving_pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    classes: Mapped[list[ProjectClass]] = relationship(
        back_populates="project", order_by="ProjectClass.name", passive_deletes=True
    )
    serving_version: Mapped[ModelVersion | None] = relationship(
        foreign_keys=[serving_version_id], post_update=True
    )


class ProjectClass(KeyedName, Base):
    """One label of a project."""

    __tablename__ = "project_classes"
    __table_args__ = (
        UniqueConstraint("project_id", "name_key", name="uq_project_classes_project_id_name_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="classes")


class Example(Base):
    """A labelled photo. Its backbone embedding is computed once, in the background, and
    again when the backbone changes (``embedding_backbone`` names the one that made it)."""

    __tablename__ = "examples"
    __table_args__ = (
        UniqueConstraint("project_id", "sha256"),
        Index("ix_examples_class_id_id", "class_id", "id"),
        Index("ix_examples_project_id_backbone", "project_id", "embedding_backbone"),
        Index("ix_examples_project_id_upload_id", "project_id", "upload_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    class_id: Mapped[int] = mapped_column(ForeignKey("project_classes.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    image_key: Mapped[str] = mapped_column(String(255))
    thumbnail_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16), default="upload")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)  # the photo as sent
    upload_id: Mapped[str | None] = mapped_column(String(64), default=None)  # the client's
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    embedding_backbone: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    """An immutable trained head, with the counts and metrics of the run that made it."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    head_key: Mapped[str] = mapped_column(String(255))
    class_names: Mapped[list[str]] = mapped_column(JSON)
    class_ids: Mapped[list[int]] = mapped_column(JSON)
    class_counts: Mapped[dict[str, int]] = mapped_column(JSON)
    example_count: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    backbone_version: Mapped[str] = mapped_column(String(64))
