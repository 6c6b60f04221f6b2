"""Trained versions: list, choose the one that serves, compare, delete, export."""

from __future__ import annotations

from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mirada.db import ModelVersion, Project, db
from mirada.db.base import utcnow
from mirada.services.errors import NotFound, ServiceError
from mirada.services.heads import load_head
from mirada.storage import BlobStore
from mirada.vision.merge import export_bundle


def list_versions(*, project: Project) -> list[ModelVersion]:
    """The project's versions, newest first."""
    return list(
        db.session.scalars(
            select(ModelVersion)
            .where(ModelVersion.project_id == project.id)
            .order_by(ModelVersion.number.desc())
        )
    )


def get_version(*, project: Project, number: int) -> ModelVersion:
    """Version ``number`` of the project, or NotFound."""
    version = db.session.scalar(
        select(ModelVersion).where(
            ModelVersion.project_id == project.id, ModelVersion.number == number
        )
    )
    if version is None:
        raise NotFound("version_not_found", _l("No such version."))
    return version


def adopt_trained_version(*, project: Project, version: ModelVersion) -> bool:
    """A version just trained serves unless the user pinned another; whether it serves.

    Left to the caller to commit, with the version.
    """
    if project.serving_pinned_at is None or project.serving_version_id is None:
        project.serving_version_id = version.id
        return True
    return False


def pin_version(*, project: Project, version: ModelVersion) -> None:
    """Make ``version`` the one that classifies new photos, until the user says otherwise."""
    project.serving_version_id = version.id
    project.serving_pinned_at = utcnow()
    db.session.commit()


def serve_newest(*, project: Project) -> ModelVersion | None:
    """Unpin: the newest version serves now, and each new one as soon as it is trained."""
    newest = db.session.scalar(
        select(ModelVersion)
        .where(ModelVersion.project_id == project.id)
        .order_by(ModelVersion.number.desc())
        .limit(1)
    )
    project.serving_pinned_at = None
    project.serving_version_id = newest.id if newest is not None else None
    db.session.commit()
    return newest


def delete_version(*, project: Project, version: ModelVersion, blobs: BlobStore) -> None:
    """Delete a version that does not serve."""
    if project.serving_version_id == version.id:
        raise ServiceError(
            "version_serving",
            _l("This version is in use. Choose another version to use first."),
        )
    head_key = version.head_key
    db.session.delete(version)
    db.session.commit()
    blobs.delete(head_key)


def export_version(
    *,
    project: Project,
    version: ModelVersion,
    backbone_path: Path,
    blobs: BlobStore,
    readme_intro: str,
) -> bytes:
    """A zip with one ONNX file (backbone and head merged), class names and preprocessing,
    and a README that opens with ``readme_intro`` (in the reader's language)."""
    head = load_head(version=version, blobs=blobs)
    return export_bundle(
        backbone_path, head, name=project.name, version=version.number, readme_intro=readme_intro
    )
