"""Trained versions: list, choose the one that serves, compare, delete, export."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mirada.db import ModelVersion, Project
from mirada.db.base import utcnow
from mirada.services.deferred_deletes import delete_after_commit
from mirada.services.errors import Conflict, NotFound, ServiceError
from mirada.services.heads import load_head
from mirada.storage import BlobStore
from mirada.vision.fingerprint import model_fingerprint
from mirada.vision.merge import export_bundle


def list_versions(*, session: Session, project: Project) -> list[ModelVersion]:
    """The project's versions, newest first."""
    return list(
        session.scalars(
            select(ModelVersion)
            .where(ModelVersion.project_id == project.id)
            .order_by(ModelVersion.number.desc())
        )
    )


def get_version(*, session: Session, project: Project, number: int) -> ModelVersion:
    """Version ``number`` of the project, or NotFound."""
    version = session.scalar(
        select(ModelVersion).where(
            ModelVersion.project_id == project.id, ModelVersion.number == number
        )
    )
    if version is None:
        raise NotFound("version_not_found")
    return version


def adopt_trained_version(*, project: Project, version: ModelVersion) -> bool:
    """A version just trained serves unless the user pinned another that still can (one
    trained on another backbone cannot: the pin is dropped); whether it serves.

    Left to the door to commit, with the version.
    """
    pinned = project.serving_version if project.serving_pinned_at is not None else None
    if pinned is not None and pinned.backbone_version != version.backbone_version:
        project.serving_pinned_at = None
    if project.serving_pinned_at is None or project.serving_version_id is None:
        project.serving_version_id = version.id
        return True
    return False


def pin_version(*, project: Project, version: ModelVersion, backbone: str | None) -> None:
    """Make ``version`` the one that classifies new photos, until the user says otherwise;
    Conflict when it was trained on another backbone than ``backbone``, the one running now
    (None: not known now)."""
    if backbone is not None and version.backbone_version != backbone:
        raise Conflict("version_other_backbone", number=version.number)
    project.serving_version_id = version.id
    project.serving_pinned_at = utcnow()


def serve_newest(*, session: Session, project: Project) -> ModelVersion | None:
    """Unpin: the newest version serves now, and each new one as soon as it is trained."""
    newest = session.scalar(
        select(ModelVersion)
        .where(ModelVersion.project_id == project.id)
        .order_by(ModelVersion.number.desc())
        .limit(1)
    )
    project.serving_pinned_at = None
    project.serving_version_id = newest.id if newest is not None else None
    return newest


def delete_version(
    *, session: Session, project: Project, version: ModelVersion, blobs: BlobStore
) -> None:
    """Delete a version that does not serve."""
    if project.serving_version_id == version.id:
        raise ServiceError("version_serving")
    head_key = version.head_key
    session.delete(version)
    session.flush()
    delete_after_commit(session=session, blobs=blobs, keys=[head_key])


def export_version(
    *,
    project: Project,
    version: ModelVersion,
    backbone_path: Path,
    blobs: BlobStore,
    readme_intro: str,
) -> bytes:
    """A zip with one ONNX file (backbone and head merged), class names and preprocessing,
    and a README that opens with ``readme_intro`` (in the reader's language); Conflict when
    the version was trained on another backbone than the file at ``backbone_path``."""
    if model_fingerprint(backbone_path) != version.backbone_version:
        raise Conflict("version_other_backbone", number=version.number)
    head = load_head(version=version, blobs=blobs)
    return export_bundle(
        backbone_path, head, name=project.name, version=version.number, readme_intro=readme_intro
    )
