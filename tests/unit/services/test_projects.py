"""Projects, classes and examples through the services alone: a plain session, no app.

The services flush and never commit: each test commits where a door would, and checks
that a refusal leaves the session as it found it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Example, Project, ProjectClass
from mirada.db.names import MAX_NAME_LENGTH
from mirada.services import classes, examples, projects
from mirada.services.errors import Conflict, NotFound, ServiceError
from mirada.storage.local import LocalBlobStore
from mirada.vision.budget import DecodeBudget
from tests.support.projects import digit_png
from tests.unit.services.owners import a_user


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_project_is_flushed_not_committed(session: Session, engine: Engine) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="  Garden   birds ")
    assert project.id is not None and project.name == "Garden birds"
    with Session(engine) as other:  # another connection sees nothing until the door commits
        assert _count(other, Project) == 0
    session.commit()
    with Session(engine) as other:
        assert _count(other, Project) == 1


@pytest.mark.parametrize(
    ("name", "code", "params"),
    [
        ("   ", "name_required", {}),
        ("x" * 500, "name_too_long", {"n": MAX_NAME_LENGTH}),
        ("a/b", "name_invalid", {}),
    ],
)
def test_bad_names_are_refused_with_a_code_and_params(
    session: Session, name: str, code: str, params: dict[str, int]
) -> None:
    user = a_user(session)
    with pytest.raises(ServiceError) as refused:
        projects.create_project(session=session, user=user, name=name)
    assert refused.value.code == code
    assert refused.value.params == params
    assert _count(session, Project) == 0


def test_a_second_project_of_the_same_name_is_a_conflict_that_keeps_the_first(
    session: Session,
) -> None:
    user = a_user(session)
    first = projects.create_project(session=session, user=user, name="Birds")
    with pytest.raises(Conflict) as refused:
        projects.create_project(session=session, user=user, name="BIRDS")
    assert refused.value.code == "project_exists"
    session.commit()  # the door commits after the refusal: the first project is kept
    assert [p.id for p in projects.list_projects(session=session, user=user)] == [first.id]


def test_the_unique_index_itself_refuses_inside_a_savepoint(session: Session) -> None:
    user = a_user(session)
    projects.create_project(session=session, user=user, name="Birds")
    other = Project(user_id=user.id, name="birds")
    with pytest.raises(Conflict), projects.unless_taken(session, Conflict("project_exists")):
        session.add(other)
    # Only the savepoint was undone: the first project is still there to commit.
    session.commit()
    assert [p.name for p in session.scalars(select(Project))] == ["Birds"]


def test_another_users_project_is_not_found(session: Session) -> None:
    ann, bob = a_user(session), a_user(session, "bob@example.org")
    project = projects.create_project(session=session, user=ann, name="Birds")
    with pytest.raises(NotFound):
        projects.get_project(session=session, user=bob, project_id=project.id)
    with pytest.raises(NotFound):
        projects.find_project(session=session, user=bob, name="Birds")
    assert projects.find_project(session=session, user=ann, name=" birds ").id == project.id


def test_a_refused_update_changes_nothing(session: Session) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Birds")
    session.commit()
    with pytest.raises(ServiceError) as refused:
        projects.update_project(
            session=session, project=project, name="Fish", description="", threshold=2.0
        )
    assert refused.value.code == "threshold_invalid"
    session.commit()
    session.expire_all()
    assert project.name == "Birds"


def test_classes_are_capped_and_unique(session: Session) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Birds")
    robin = classes.add_class(session=session, project=project, name="Robin")
    assert [c.name for c in project.classes] == ["Robin"]  # the loaded list is refreshed
    with pytest.raises(Conflict):
        classes.add_class(session=session, project=project, name="robin")
    for number in range(classes.MAX_CLASSES - 1):
        classes.add_class(session=session, project=project, name=f"c{number}")
    with pytest.raises(ServiceError) as refused:
        classes.add_class(session=session, project=project, name="one too many")
    assert (refused.value.code, refused.value.params) == ("too_many_classes", {"n": 100})
    classes.rename_class(session=session, cls=robin, name="Blackbird")
    session.commit()
    assert _count(session, ProjectClass) == classes.MAX_CLASSES


def _files(blobs: LocalBlobStore) -> list[str]:
    return list(blobs.keys("users", written_before=datetime.now(UTC) + timedelta(days=1)))


def test_examples_are_added_duplicates_refused_and_classes_left_clean(
    session: Session, service_settings: Settings, blobs: LocalBlobStore
) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Digits")
    uploads = [
        examples.LabelledUpload("one", "a.png", digit_png(1)),
        examples.LabelledUpload("one", "b.png", digit_png(1)),  # the same bytes again
        examples.LabelledUpload("bad", "c.png", b"not a picture"),
    ]
    outcomes = examples.add_examples(
        session=session,
        project=project,
        uploads=uploads,
        blobs=blobs,
        create_classes=True,
        settings=service_settings,
        budget=DecodeBudget(10**9),
    )
    assert [o.example is not None for o in outcomes] == [True, False, False]
    assert outcomes[1].error is not None
    assert (outcomes[1].error.code, outcomes[1].error.params) == ("duplicate", {"name": "one"})
    session.commit()
    # The class made for the refused file alone is gone; the other stays.
    assert [c.name for c in session.scalars(select(ProjectClass))] == ["one"]
    example = session.scalars(select(Example)).one()
    assert blobs.get(example.image_key) == digit_png(1)
    assert projects.class_counts(session=session, project=project) == {example.class_id: 1}


def test_a_checkpoint_makes_each_stored_photo_visible_before_the_batch_ends(
    session: Session, engine: Engine, service_settings: Settings, blobs: LocalBlobStore
) -> None:
    """A batch door commits after each photo: another connection sees them as they come."""
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Digits")
    session.commit()
    seen: list[int] = []

    def commit_and_look() -> None:
        session.commit()
        with Session(engine) as other:
            seen.append(_count(other, Example))

    examples.add_examples(
        session=session,
        project=project,
        uploads=[examples.LabelledUpload("one", f"{n}.png", digit_png(n)) for n in range(3)],
        blobs=blobs,
        create_classes=True,
        settings=service_settings,
        budget=DecodeBudget(10**9),
        checkpoint=commit_and_look,
    )
    assert seen == [1, 2, 3]


def test_deleted_examples_lose_their_files_only_when_the_door_commits(
    session: Session, service_settings: Settings, blobs: LocalBlobStore
) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Digits")
    (outcome,) = examples.add_examples(
        session=session,
        project=project,
        uploads=[examples.LabelledUpload("one", "a.png", digit_png(1))],
        blobs=blobs,
        create_classes=True,
        settings=service_settings,
        budget=DecodeBudget(10**9),
    )
    session.commit()
    assert outcome.example is not None
    key = outcome.example.image_key

    examples.delete_examples(
        session=session, project=project, example_ids=[outcome.example.id], blobs=blobs
    )
    session.rollback()  # the door failed: the row is back, and so must its file be
    assert blobs.get(key)
    examples.delete_examples(
        session=session, project=project, example_ids=[outcome.example.id], blobs=blobs
    )
    assert blobs.get(key)  # not yet: the row is gone only once committed
    session.commit()
    assert not _files(blobs)


def test_moving_to_a_class_of_another_project_is_not_found(
    session: Session, service_settings: Settings, blobs: LocalBlobStore
) -> None:
    user = a_user(session)
    mine = projects.create_project(session=session, user=user, name="Mine")
    other = projects.create_project(session=session, user=user, name="Other")
    target = classes.add_class(session=session, project=other, name="x")
    with pytest.raises(NotFound):
        examples.move_examples(session=session, project=mine, example_ids=[1], target=target)
    with pytest.raises(NotFound):
        examples.delete_examples(session=session, project=mine, example_ids=[], blobs=blobs)


def test_project_summaries_and_owners(session: Session) -> None:
    ann, bob = a_user(session), a_user(session, "bob@example.org")
    birds = projects.create_project(session=session, user=ann, name="Birds")
    classes.add_class(session=session, project=birds, name="Robin")
    projects.create_project(session=session, user=ann, name="Ants")
    summaries = projects.project_summaries(session=session, user=ann)
    assert [(s.project.name, s.class_count, s.example_count) for s in summaries] == [
        ("Ants", 0, 0),
        ("Birds", 1, 0),
    ]
    owners = projects.project_owners(session=session, limit=1)
    assert ([u.email for u in owners.first], owners.count) == (["ann@example.org"], 2)
    assert bob.id != ann.id


def test_deleting_a_project_removes_its_files_after_the_commit(
    session: Session, service_settings: Settings, blobs: LocalBlobStore
) -> None:
    user = a_user(session)
    project = projects.create_project(session=session, user=user, name="Digits")
    examples.add_examples(
        session=session,
        project=project,
        uploads=[examples.LabelledUpload("one", "a.png", digit_png(1))],
        blobs=blobs,
        create_classes=True,
        settings=service_settings,
        budget=DecodeBudget(10**9),
    )
    session.commit()
    projects.delete_project(session=session, project=project, blobs=blobs)
    assert _files(blobs)
    session.commit()
    assert not _files(blobs)
    assert _count(session, Example) == 0
