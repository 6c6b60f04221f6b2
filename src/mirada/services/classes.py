"""A project's classes: add, rename, merge, delete."""

from __future__ import annotations

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from mirada.db import Example, Project, ProjectClass
from mirada.db.names import name_key
from mirada.services.deferred_deletes import delete_after_commit
from mirada.services.errors import Conflict, NotFound, ServiceError
from mirada.services.projects import clean_name, unless_taken
from mirada.storage import BlobStore

MAX_CLASSES = 100  # also keeps the confusion matrix picture a sensible size


def _class_exists() -> Conflict:
    return Conflict("class_exists")


def add_class(*, session: Session, project: Project, name: str) -> ProjectClass:
    """A new class in the project (at most MAX_CLASSES)."""
    name = clean_name(name)
    if _class_named(session, project, name) is not None:
        raise _class_exists()
    count = session.scalar(
        select(func.count(ProjectClass.id)).where(ProjectClass.project_id == project.id)
    )
    if (count or 0) >= MAX_CLASSES:
        raise ServiceError("too_many_classes", n=MAX_CLASSES)
    cls = ProjectClass(project_id=project.id, name=name)
    with unless_taken(session, _class_exists()):
        session.add(cls)
    session.expire(project, ["classes"])  # loaded before: let it list the new class
    return cls


def _class_named(session: Session, project: Project, name: str) -> ProjectClass | None:
    return session.scalar(
        select(ProjectClass).where(
            ProjectClass.project_id == project.id, ProjectClass.name_key == name_key(name)
        )
    )


def get_class(*, session: Session, project: Project, class_id: int) -> ProjectClass:
    """A class of the project, or NotFound."""
    cls = session.scalar(
        select(ProjectClass).where(
            ProjectClass.id == class_id, ProjectClass.project_id == project.id
        )
    )
    if cls is None:
        raise NotFound("class_not_found")
    return cls


def rename_class(*, session: Session, cls: ProjectClass, name: str) -> None:
    """Give the class another name (trained versions keep the old one)."""
    name = clean_name(name)
    other = _class_named(session, cls.project, name)
    if other is not None and other.id != cls.id:
        raise _class_exists()
    with unless_taken(session, _class_exists()):
        cls.name = name


def delete_class(*, session: Session, cls: ProjectClass, blobs: BlobStore) -> None:
    """Delete the class and its examples (their files once the door commits)."""
    rows = session.scalars(select(Example).where(Example.class_id == cls.id))
    keys = [key for row in rows for key in (row.image_key, row.thumbnail_key)]
    project = cls.project
    session.delete(cls)
    session.flush()
    session.expire(project, ["classes"])
    delete_after_commit(session=session, blobs=blobs, keys=keys)


def merge_classes(*, session: Session, source: ProjectClass, target: ProjectClass) -> int:
    """Move every example of ``source`` into ``target`` and delete ``source``."""
    if source.id == target.id or source.project_id != target.project_id:
        raise ServiceError("merge_invalid")
    result = session.execute(
        update(Example).where(Example.class_id == source.id).values(class_id=target.id)
    )
    project = source.project
    session.delete(source)
    session.flush()
    session.expire(project, ["classes"])
    return (result.rowcount or 0) if isinstance(result, CursorResult) else 0
