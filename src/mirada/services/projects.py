"""Projects: names, descriptions, the owner's list, and deleting one with all it holds.

Classes live in ``services.classes``, labelled examples in ``services.examples``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mirada.db import Classification, Example, Project, ProjectClass, User
from mirada.db.names import MAX_NAME_KEY_LENGTH, MAX_NAME_LENGTH, name_key
from mirada.services.deferred_deletes import delete_after_commit
from mirada.services.errors import Conflict, NotFound, ServiceError
from mirada.storage import BlobStore, user_blob_prefix

MAX_DESCRIPTION_LENGTH = 2000


def project_prefix(project: Project) -> str:
    """Where a project's blobs live."""
    return f"{user_blob_prefix(project.user_id)}/projects/{project.id}"


def clean_name(name: str) -> str:
    """A project's or a class's name with its blanks collapsed, or a refusal."""
    name = " ".join(name.split())
    if not name:
        raise ServiceError("name_required")
    # Some characters spell out longer (a ligature, ß): the key has a bound of its own.
    if len(name) > MAX_NAME_LENGTH or len(name_key(name)) > MAX_NAME_KEY_LENGTH:
        raise ServiceError("name_too_long", n=MAX_NAME_LENGTH)
    if "/" in name or "\\" in name or not name.isprintable():
        raise ServiceError("name_invalid")
    return name


def _clean_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ServiceError("description_too_long", n=MAX_DESCRIPTION_LENGTH)
    if any(not ch.isprintable() and ch not in "\t\r\n" for ch in description):
        raise ServiceError("description_invalid")
    return description.strip()


@contextmanager
def unless_taken(session: Session, error: ServiceError) -> Iterator[None]:
    """Run the block in a savepoint; a unique-constraint clash (a double submit, a lost race)
    undoes only the block and becomes ``error``."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        raise error from None


def _project_exists() -> Conflict:
    return Conflict("project_exists")


def create_project(*, session: Session, user: User, name: str, description: str = "") -> Project:
    """A new, empty project."""
    name = clean_name(name)
    description = _clean_description(description)
    if _project_named(session, user.id, name) is not None:
        raise _project_exists()
    project = Project(user_id=user.id, name=name, description=description)
    with unless_taken(session, _project_exists()):
        session.add(project)
    return project


def _project_named(session: Session, user_id: int, name: str) -> Project | None:
    return session.scalar(
        select(Project).where(Project.user_id == user_id, Project.name_key == name_key(name))
    )


def list_projects(*, session: Session, user: User) -> list[Project]:
    """The user's projects, by name."""
    return list(
        session.scalars(
            select(Project).where(Project.user_id == user.id).order_by(Project.name_key)
        )
    )


def get_project(*, session: Session, user: User, project_id: int) -> Project:
    """One of the user's projects; anyone else's answers NotFound."""
    project = session.scalar(
        select(Project).where(Project.id == project_id, Project.user_id == user.id)
    )
    if project is None:
        raise NotFound("project_not_found")
    return project


def find_project(*, session: Session, user: User, name: str) -> Project:
    """The user's project called ``name`` (any case), or NotFound."""
    project = _project_named(session, user.id, " ".join(name.split()))
    if project is None:
        raise NotFound("project_not_found")
    return project


def update_project(
    *, session: Session, project: Project, name: str, description: str, threshold: float
) -> None:
    """Rename, describe, and set the confidence below which results read "not sure"."""
    name = clean_name(name)
    other = _project_named(session, project.user_id, name)
    if other is not None and other.id != project.id:
        raise _project_exists()
    if not 0.0 <= threshold <= 1.0:
        raise ServiceError("threshold_invalid")
    description = _clean_description(description)
    with unless_taken(session, _project_exists()):
        project.name, project.description, project.threshold = name, description, threshold + 0.0


def delete_project(*, session: Session, project: Project, blobs: BlobStore) -> None:
    """Delete the project with its classes, examples, versions, predictions and files.

    The rows go now (flushed); the files once the door commits (never a row without its files).
    """
    prefix = project_prefix(project)
    predictions = session.execute(
        select(Classification.image_key, Classification.thumbnail_key).where(
            Classification.project_id == project.id
        )
    ).all()
    project.serving_version_id = None
    session.flush()
    session.delete(project)
    session.flush()
    delete_after_commit(
        session=session,
        blobs=blobs,
        keys=[key for keys in predictions for key in keys],
        prefixes=[prefix],
    )


def class_counts(*, session: Session, project: Project) -> dict[int, int]:
    """How many examples each class of the project has (classes without any: 0)."""
    counts = dict(
        session.execute(
            select(Example.class_id, func.count(Example.id))
            .where(Example.project_id == project.id)
            .group_by(Example.class_id)
        ).all()
    )
    return {cls.id: counts.get(cls.id, 0) for cls in project.classes}


@dataclass(frozen=True)
class ProjectSummary:
    """A project with how many classes and examples it has."""

    project: Project
    class_count: int
    example_count: int


def project_summaries(*, session: Session, user: User) -> list[ProjectSummary]:
    """The user's projects, by name, with their counts (three queries whatever their number)."""
    mine = select(Project.id).where(Project.user_id == user.id)
    classes = dict(
        session.execute(
            select(ProjectClass.project_id, func.count(ProjectClass.id))
            .where(ProjectClass.project_id.in_(mine))
            .group_by(ProjectClass.project_id)
        ).all()
    )
    examples = dict(
        session.execute(
            select(Example.project_id, func.count(Example.id))
            .where(Example.project_id.in_(mine))
            .group_by(Example.project_id)
        ).all()
    )
    return [
        ProjectSummary(project, classes.get(project.id, 0), examples.get(project.id, 0))
        for project in list_projects(session=session, user=user)
    ]


@dataclass(frozen=True)
class Owners:
    """The first few accounts by email, and how many there are: who may own a project."""

    first: list[User]
    count: int


def project_owners(*, session: Session, limit: int) -> Owners:
    """The first ``limit`` users by email and the number of users (for a shell's --user)."""
    first = list(session.scalars(select(User).order_by(User.email).limit(limit)))
    count = session.scalar(select(func.count(User.id))) or 0
    return Owners(first=first, count=count)
