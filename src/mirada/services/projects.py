"""Projects, their classes and their labelled examples."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from mirada.config import Settings
from mirada.db import Classification, Example, Project, ProjectClass, User, db
from mirada.db.names import MAX_NAME_KEY_LENGTH, MAX_NAME_LENGTH, name_key
from mirada.services.errors import Busy, Conflict, NotFound, ServiceError, detached
from mirada.services.images import decoded_upload
from mirada.services.photos import clean_filename, stored_photo
from mirada.services.quotas import Incoming, check_room
from mirada.storage import BlobStore, user_blob_prefix
from mirada.vision.budget import DecodeBudget

MAX_DESCRIPTION_LENGTH = 2000
MAX_CLASSES = 100  # also keeps the confusion matrix picture a sensible size
EXAMPLES_PAGE_SIZE = 60
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def project_prefix(project: Project) -> str:
    """Where a project's blobs live."""
    return f"{user_blob_prefix(project.user_id)}/projects/{project.id}"


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ServiceError("name_required", _l("Enter a name."))
    # Some characters spell out longer (a ligature, ß): the key has a bound of its own.
    if len(name) > MAX_NAME_LENGTH or len(name_key(name)) > MAX_NAME_KEY_LENGTH:
        raise ServiceError(
            "name_too_long", _l("Use at most %(n)d characters for the name.", n=MAX_NAME_LENGTH)
        )
    if "/" in name or "\\" in name or not name.isprintable():
        raise ServiceError(
            "name_invalid", _l("A name cannot contain slashes or control characters.")
        )
    return name


def _clean_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ServiceError(
            "description_too_long",
            _l("Use at most %(n)d characters for the description.", n=MAX_DESCRIPTION_LENGTH),
        )
    if any(not ch.isprintable() and ch not in "\t\r\n" for ch in description):
        raise ServiceError(
            "description_invalid", _l("The description contains characters that are not allowed.")
        )
    return description.strip()


@contextmanager
def _unless_taken(error: Conflict) -> Iterator[None]:
    """Turn a unique-constraint clash at commit (a double submit, a lost race) into ``error``."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        raise error from None


def _project_exists() -> Conflict:
    return Conflict("project_exists", _l("You already have a project with this name."))


def _class_exists() -> Conflict:
    return Conflict("class_exists", _l("This project already has a class with this name."))


def _duplicate(class_name: str | None = None) -> Conflict:
    if class_name is None:
        return Conflict("duplicate", _l("This photo is already in the project."))
    return Conflict(
        "duplicate",
        _l("This photo is already in the project, in the class %(name)s.", name=class_name),
    )


# Projects


def create_project(*, user: User, name: str, description: str = "") -> Project:
    """A new, empty project."""
    name = _clean_name(name)
    description = _clean_description(description)
    if _project_named(user.id, name) is not None:
        raise _project_exists()
    project = Project(user_id=user.id, name=name, description=description)
    with _unless_taken(_project_exists()):
        db.session.add(project)
        db.session.commit()
    return project


def _project_named(user_id: int, name: str) -> Project | None:
    return db.session.scalar(
        select(Project).where(Project.user_id == user_id, Project.name_key == name_key(name))
    )


def list_projects(*, user: User) -> list[Project]:
    """The user's projects, by name."""
    return list(
        db.session.scalars(
            select(Project).where(Project.user_id == user.id).order_by(Project.name_key)
        )
    )


def get_project(*, user: User, project_id: int) -> Project:
    """One of the user's projects; anyone else's answers NotFound."""
    project = db.session.scalar(
        select(Project).where(Project.id == project_id, Project.user_id == user.id)
    )
    if project is None:
        raise NotFound("project_not_found", _l("No such project."))
    return project


def find_project(*, user: User, name: str) -> Project:
    """The user's project called ``name`` (any case), or NotFound."""
    project = _project_named(user.id, " ".join(name.split()))
    if project is None:
        raise NotFound("project_not_found", _l("No such project."))
    return project


def update_project(*, project: Project, name: str, description: str, threshold: float) -> None:
    """Rename, describe, and set the confidence below which results read "not sure"."""
    name = _clean_name(name)
    other = _project_named(project.user_id, name)
    if other is not None and other.id != project.id:
        raise _project_exists()
    if not 0.0 <= threshold <= 1.0:
        raise ServiceError("threshold_invalid", _l("The threshold must be a number from 0 to 1."))
    description = _clean_description(description)
    project.name, project.description, project.threshold = name, description, threshold + 0.0
    with _unless_taken(_project_exists()):
        db.session.commit()


def delete_project(*, project: Project, blobs: BlobStore) -> None:
    """Delete the project with its classes, examples, versions, predictions and files."""
    prefix = project_prefix(project)
    predictions = db.session.execute(
        select(Classification.image_key, Classification.thumbnail_key).where(
            Classification.project_id == project.id
        )
    ).all()
    project.serving_version_id = None
    db.session.flush()
    db.session.delete(project)
    db.session.commit()
    blobs.delete_prefix(prefix)
    _delete_blobs(blobs, [key for keys in predictions for key in keys])


# Classes


def add_class(*, project: Project, name: str) -> ProjectClass:
    """A new class in the project (at most MAX_CLASSES)."""
    name = _clean_name(name)
    if _class_named(project, name) is not None:
        raise _class_exists()
    count = db.session.scalar(
        select(func.count(ProjectClass.id)).where(ProjectClass.project_id == project.id)
    )
    if (count or 0) >= MAX_CLASSES:
        raise ServiceError(
            "too_many_classes", _l("A project can have at most %(n)d classes.", n=MAX_CLASSES)
        )
    cls = ProjectClass(project_id=project.id, name=name)
    with _unless_taken(_class_exists()):
        db.session.add(cls)
        db.session.commit()
    return cls


def _class_named(project: Project, name: str) -> ProjectClass | None:
    return db.session.scalar(
        select(ProjectClass).where(
            ProjectClass.project_id == project.id, ProjectClass.name_key == name_key(name)
        )
    )


def get_class(*, project: Project, class_id: int) -> ProjectClass:
    """A class of the project, or NotFound."""
    cls = db.session.scalar(
        select(ProjectClass).where(
            ProjectClass.id == class_id, ProjectClass.project_id == project.id
        )
    )
    if cls is None:
        raise NotFound("class_not_found", _l("No such class."))
    return cls


def rename_class(*, cls: ProjectClass, name: str) -> None:
    """Give the class another name (trained versions keep the old one)."""
    name = _clean_name(name)
    other = _class_named(cls.project, name)
    if other is not None and other.id != cls.id:
        raise _class_exists()
    cls.name = name
    with _unless_taken(_class_exists()):
        db.session.commit()


def delete_class(*, cls: ProjectClass, blobs: BlobStore) -> None:
    """Delete the class and its examples."""
    keys = _example_keys(select(Example).where(Example.class_id == cls.id))
    db.session.delete(cls)
    db.session.commit()
    _delete_blobs(blobs, keys)


def merge_classes(*, source: ProjectClass, target: ProjectClass) -> int:
    """Move every example of ``source`` into ``target`` and delete ``source``."""
    if source.id == target.id or source.project_id != target.project_id:
        raise ServiceError("merge_invalid", _l("Choose another class of the same project."))
    moved = db.session.execute(
        update(Example).where(Example.class_id == source.id).values(class_id=target.id)
    ).rowcount
    db.session.delete(source)
    db.session.commit()
    return moved or 0


def class_counts(*, project: Project) -> dict[int, int]:
    """How many examples each class of the project has (classes without any: 0)."""
    counts = dict(
        db.session.execute(
            select(Example.class_id, func.count(Example.id))
            .where(Example.project_id == project.id)
            .group_by(Example.class_id)
        ).all()
    )
    return {cls.id: counts.get(cls.id, 0) for cls in project.classes}


# Examples


@dataclass(frozen=True)
class LabelledUpload:
    """A file to add as an example of the class called ``class_name``."""

    class_name: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class ExampleOutcome:
    """What became of one file: a new example, or why it was refused (code and message)."""

    filename: str
    example: Example | None = None
    error: ServiceError | None = None


def add_examples(
    *,
    project: Project,
    uploads: Iterable[LabelledUpload],
    settings: Settings,
    blobs: BlobStore,
    budget: DecodeBudget,
    create_classes: bool = False,
    upload_id: str | None = None,
    incoming: Incoming | None = None,
) -> list[ExampleOutcome]:
    """Check each file with the image intake and store the good ones as examples.

    The files are taken one at a time (``uploads`` may read each as it comes). Files
    already in the project (same bytes) are refused as duplicates. With
    ``create_classes`` an unknown class name makes a new class; otherwise it is refused.
    Uploads that would take the owner over their limits are refused whole, before any
    work (QuotaExceeded): ``incoming`` says how many photos of how many bytes are coming
    (counted from ``uploads`` when it is a sequence). ``upload_id``, the client's name for
    this upload, is kept on each example so that ``uploaded_examples`` can say what arrived.
    Once decoding finds no room in ``budget`` in time, the rest are refused as ``busy``.
    """
    if incoming is None:
        if not isinstance(uploads, Sequence):
            raise TypeError("say what is incoming when the uploads are read as they come")
        incoming = Incoming(photos=len(uploads), size=sum(len(u.data) for u in uploads))
    check_room(
        user_id=project.user_id, settings=settings, photos=incoming.photos, size=incoming.size
    )
    classes = {cls.name_key: cls for cls in project.classes}
    held = _held_photos(project)
    outcomes: list[ExampleOutcome] = []
    created: set[int] = set()
    used: set[int] = set()
    busy_error: Busy | None = None
    for upload in uploads:
        filename = clean_filename(upload.filename)
        digest: str | None = None
        if busy_error is not None:
            outcomes.append(ExampleOutcome(filename, error=busy_error))
            continue
        try:
            cls = classes.get(name_key(upload.class_name))
            if cls is None:
                if not create_classes:
                    raise NotFound("class_not_found", _l("No such class."))
                cls = add_class(project=project, name=upload.class_name)
                classes[cls.name_key] = cls
                created.add(cls.id)
            digest = hashlib.sha256(upload.data).hexdigest()
            if digest not in held:  # stored by another request since we looked?
                held.update(_held_photos(project, digest))
            if digest in held:  # refused before decoding, not after
                raise _duplicate(held[digest])
            example = _store_example(
                project=project,
                cls=cls,
                filename=filename,
                data=upload.data,
                digest=digest,
                settings=settings,
                blobs=blobs,
                budget=budget,
                source="upload",
                upload_id=upload_id,
            )
            held[digest] = cls.name
            used.add(cls.id)
            outcomes.append(ExampleOutcome(filename, example=example))
        except ServiceError as exc:
            db.session.rollback()
            if exc.code == "duplicate" and digest is not None and digest not in held:
                held.update(_held_photos(project, digest))  # a concurrent upload stored it first
            outcomes.append(ExampleOutcome(filename, error=detached(exc)))
            busy_error = exc if isinstance(exc, Busy) else None
    if created - used:  # classes made for files that were all refused: leave nothing behind
        db.session.execute(delete(ProjectClass).where(ProjectClass.id.in_(created - used)))
        db.session.commit()
        db.session.expire(project, ["classes"])
    return outcomes


def _held_photos(project: Project, digest: str | None = None) -> dict[str, str]:
    """The photos ``project`` holds now, by their bytes' hash: the class each is in (only the
    photo with ``digest``, when given)."""
    query = (
        select(Example.sha256, ProjectClass.name)
        .join(ProjectClass, Example.class_id == ProjectClass.id)
        .where(Example.project_id == project.id)
    )
    if digest is not None:
        query = query.where(Example.sha256 == digest)
    return {sha: name for sha, name in db.session.execute(query)}


def _store_example(
    *,
    project: Project,
    cls: ProjectClass,
    filename: str,
    data: bytes,
    digest: str,
    settings: Settings,
    blobs: BlobStore,
    budget: DecodeBudget,
    source: str,
    upload_id: str | None = None,
) -> Example:
    prefix = project_prefix(project)
    with (
        decoded_upload(data, settings=settings, budget=budget) as image,
        stored_photo(blobs=blobs, prefix=prefix, data=data, image=image) as files,
    ):
        # Checked again, locked, for the bytes as stored: concurrent uploads cannot overshoot.
        check_room(
            user_id=project.user_id,
            settings=settings,
            photos=1,
            size=files.size_bytes,
            lock=True,
        )
        example = Example(
            project_id=project.id,
            class_id=cls.id,
            filename=clean_filename(filename),
            content_type=files.content_type,
            sha256=digest,
            image_key=files.image_key,
            thumbnail_key=files.thumbnail_key,
            source=source,
            size_bytes=files.size_bytes,
            upload_id=upload_id,
        )
        with _unless_taken(_duplicate()):
            db.session.add(example)
            db.session.commit()
    return example


def add_example_from_blob(
    *,
    project: Project,
    cls: ProjectClass,
    filename: str,
    data: bytes,
    settings: Settings,
    blobs: BlobStore,
    budget: DecodeBudget,
) -> Example:
    """Label a photo the project already classified; a photo already in it changes class."""
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(
        select(Example).where(Example.project_id == project.id, Example.sha256 == digest)
    )
    if existing is not None:
        existing.class_id = cls.id
        db.session.commit()
        return existing
    return _store_example(
        project=project,
        cls=cls,
        filename=filename,
        data=data,
        digest=digest,
        settings=settings,
        blobs=blobs,
        budget=budget,
        source="feedback",
    )


def check_upload_id(raw: str) -> str | None:
    """A client's upload id (8 to 64 letters, digits, ``-`` or ``_``), None when not given."""
    raw = raw.strip()
    if not raw:
        return None
    if not UPLOAD_ID.fullmatch(raw):
        raise ServiceError(
            "upload_id_invalid",
            _l("An upload id has 8 to 64 letters, digits, hyphens or underscores."),
        )
    return raw


def uploaded_examples(*, project: Project, upload_id: str) -> list[Example]:
    """The examples of the project that arrived with ``upload_id``, oldest first."""
    return list(
        db.session.scalars(
            select(Example)
            .where(Example.project_id == project.id, Example.upload_id == upload_id)
            .order_by(Example.id)
        )
    )


def list_examples(
    *, cls: ProjectClass, after: int | None = None, limit: int = EXAMPLES_PAGE_SIZE
) -> tuple[list[Example], int | None]:
    """A page of the class's examples, oldest first, and the cursor of the next page."""
    query = select(Example).where(Example.class_id == cls.id)
    if after is not None:
        query = query.where(Example.id > after)
    rows = list(db.session.scalars(query.order_by(Example.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def get_example(*, project: Project, example_id: int) -> Example:
    """An example of the project, or NotFound."""
    example = db.session.scalar(
        select(Example).where(Example.id == example_id, Example.project_id == project.id)
    )
    if example is None:
        raise NotFound("example_not_found", _l("No such example."))
    return example


def find_examples(*, project: Project, example_ids: Iterable[int]) -> dict[int, Example]:
    """The project's examples among ``example_ids``, by id (deleted or foreign ones left out)."""
    ids = sorted(set(example_ids))
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Example).where(Example.project_id == project.id, Example.id.in_(ids))
    )
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class ProjectSummary:
    """A project with how many classes and examples it has."""

    project: Project
    class_count: int
    example_count: int


def project_summaries(*, user: User) -> list[ProjectSummary]:
    """The user's projects, by name, with their counts (three queries whatever their number)."""
    mine = select(Project.id).where(Project.user_id == user.id)
    classes = dict(
        db.session.execute(
            select(ProjectClass.project_id, func.count(ProjectClass.id))
            .where(ProjectClass.project_id.in_(mine))
            .group_by(ProjectClass.project_id)
        ).all()
    )
    examples = dict(
        db.session.execute(
            select(Example.project_id, func.count(Example.id))
            .where(Example.project_id.in_(mine))
            .group_by(Example.project_id)
        ).all()
    )
    return [
        ProjectSummary(project, classes.get(project.id, 0), examples.get(project.id, 0))
        for project in list_projects(user=user)
    ]


def _selected(project: Project, example_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(example_ids))
    found = list(
        db.session.scalars(
            select(Example.id).where(Example.project_id == project.id, Example.id.in_(ids))
        )
    )
    if not ids or len(found) != len(ids):
        raise NotFound("example_not_found", _l("No such example."))
    return found


def move_examples(*, project: Project, example_ids: Iterable[int], target: ProjectClass) -> int:
    """Give the chosen examples another class of the same project."""
    if target.project_id != project.id:
        raise NotFound("class_not_found", _l("No such class."))
    ids = _selected(project, example_ids)
    db.session.execute(update(Example).where(Example.id.in_(ids)).values(class_id=target.id))
    db.session.commit()
    return len(ids)


def delete_examples(*, project: Project, example_ids: Iterable[int], blobs: BlobStore) -> int:
    """Delete the chosen examples and their files."""
    ids = _selected(project, example_ids)
    keys = _example_keys(select(Example).where(Example.id.in_(ids)))
    db.session.execute(delete(Example).where(Example.id.in_(ids)))
    db.session.commit()
    _delete_blobs(blobs, keys)
    return len(ids)


def _example_keys(query: object) -> list[str]:
    rows = db.session.scalars(query)  # type: ignore[call-overload]
    return [key for row in rows for key in (row.image_key, row.thumbnail_key)]


def _delete_blobs(blobs: BlobStore, keys: Iterable[str]) -> None:
    for key in keys:
        blobs.delete(key)
