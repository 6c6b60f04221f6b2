"""Confirming or correcting a project's prediction: the photo joins the training set."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Classification, Project, ProjectClass, User
from mirada.db.base import utcnow
from mirada.services.classes import get_class
from mirada.services.classifications import get_classification
from mirada.services.errors import Conflict, NotFound
from mirada.services.examples import add_example_from_blob
from mirada.services.projects import get_project
from mirada.storage import BlobStore
from mirada.vision.budget import DecodeBudget

UNCERTAIN_LIMIT = 12


def give_feedback(
    *,
    session: Session,
    user: User,
    classification_id: int,
    class_id: int,
    settings: Settings,
    blobs: BlobStore,
    budget: DecodeBudget,
) -> ProjectClass:
    """Label a project's prediction with its right class; the photo becomes an example.

    Once only: a second answer (another tab, a double tap) would add the photo twice.
    The label and the example are one change: the door commits both or neither.
    """
    row = get_classification(session=session, user=user, classification_id=classification_id)
    if row.project_id is None:
        raise NotFound("classification_not_found")
    if row.feedback_class_id is not None:
        raise Conflict("already_labelled")
    project = get_project(session=session, user=user, project_id=row.project_id)
    cls = get_class(session=session, project=project, class_id=class_id)
    add_example_from_blob(
        session=session,
        project=project,
        cls=cls,
        filename=row.filename,
        data=blobs.get(row.image_key),
        settings=settings,
        blobs=blobs,
        budget=budget,
    )
    row.feedback_class_id = cls.id
    row.feedback_at = utcnow()
    session.flush()
    return cls


def least_confident(
    *, session: Session, project: Project, limit: int = UNCERTAIN_LIMIT
) -> list[Classification]:
    """The project's unlabelled predictions it was least sure about: the ones to label first."""
    return list(
        session.scalars(
            select(Classification)
            .where(
                Classification.project_id == project.id,
                Classification.feedback_class_id.is_(None),
            )
            .order_by(Classification.top_score, Classification.id.desc())
            .limit(limit)
        )
    )
