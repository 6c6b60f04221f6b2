"""Rows the projects services need, made straight in a session (no Flask app)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mirada.db import ModelVersion, Project, User


def a_user(session: Session, email: str = "ann@example.org", **limits: int) -> User:
    """A committed account (``photo_limit`` / ``storage_limit_bytes`` may be given)."""
    user = User(email=email, password_hash="x", **limits)
    session.add(user)
    session.commit()
    return user


def a_version(
    session: Session, project: Project, number: int, head_key: str, backbone: str = "test"
) -> ModelVersion:
    """A committed trained version of ``project`` whose head lives at ``head_key``, trained
    on the embeddings of the backbone whose version is ``backbone``."""
    version = ModelVersion(
        project_id=project.id,
        number=number,
        head_key=head_key,
        class_names=["a", "b"],
        class_ids=[1, 2],
        class_counts={"a": 5, "b": 5},
        example_count=10,
        metrics={"accuracy": 0.9},
        backbone_version=backbone,
    )
    session.add(version)
    session.commit()
    return version
