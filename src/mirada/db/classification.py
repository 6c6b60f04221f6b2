"""A classification: one photo, the model that looked at it and what it saw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mirada.db.base import Base, UTCDateTime, utcnow


class Classification(Base):
    """A photo a user classified. Its image and thumbnail live in the blob store."""

    __tablename__ = "classifications"
    __table_args__ = (
        Index("ix_classifications_user_id_id", "user_id", "id"),
        Index("ix_classifications_project_id_top_score", "project_id", "top_score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(32))
    image_key: Mapped[str] = mapped_column(String(255))
    thumbnail_key: Mapped[str] = mapped_column(String(255))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)  # the photo as sent
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    top_label: Mapped[str] = mapped_column(String(200))
    top_score: Mapped[float] = mapped_column(Float)
    predictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Set when a project's version classified the photo (rather than ImageNet).
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), default=None
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), default=None
    )
    confident: Mapped[bool] = mapped_column(default=True)
    feedback_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_classes.id", ondelete="SET NULL"), default=None
    )
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
