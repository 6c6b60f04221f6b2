"""The predictions to label first, and a labelled photo that is already an example."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Classification
from mirada.services import classes, examples, feedback, projects
from mirada.storage.local import LocalBlobStore
from mirada.vision.budget import DecodeBudget
from tests.support.projects import digit_png
from tests.unit.services.owners import a_user


def _prediction(session: Session, user_id: int, project_id: int, score: float) -> Classification:
    row = Classification(
        user_id=user_id,
        project_id=project_id,
        content_type="image/png",
        image_key=f"i{score}",
        thumbnail_key=f"t{score}",
        width=1,
        height=1,
        model_name="m",
        model_version="1",
        top_label="a",
        top_score=score,
        predictions=[],
    )
    session.add(row)
    session.flush()
    return row


def test_least_confident_first_and_labelled_ones_left_out(session: Session) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Birds")
    cls = classes.add_class(session=session, project=project, name="a")
    sure = _prediction(session, user.id, project.id, 0.9)
    unsure = _prediction(session, user.id, project.id, 0.2)
    labelled = _prediction(session, user.id, project.id, 0.1)
    labelled.feedback_class_id = cls.id
    rows = feedback.least_confident(session=session, project=project)
    assert [r.id for r in rows] == [unsure.id, sure.id]
    assert feedback.least_confident(session=session, project=project, limit=1) == [unsure]


def test_a_photo_labelled_again_moves_class_instead_of_a_second_copy(
    session: Session, service_settings: Settings, blobs: LocalBlobStore
) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Digits")
    one = classes.add_class(session=session, project=project, name="one")
    seven = classes.add_class(session=session, project=project, name="seven")
    common = {"settings": service_settings, "blobs": blobs, "budget": DecodeBudget(10**9)}
    first = examples.add_example_from_blob(
        session=session, project=project, cls=one, filename="a.png", data=digit_png(1), **common
    )
    again = examples.add_example_from_blob(
        session=session, project=project, cls=seven, filename="a.png", data=digit_png(1), **common
    )
    session.commit()
    assert again.id == first.id and again.class_id == seven.id
    assert first.source == "feedback"
