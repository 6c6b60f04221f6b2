"""A project's labelled examples: add (checked by the image intake), list, move, delete."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Example, Project, ProjectClass
from mirada.db.names import name_key
from mirada.services.classes import add_class
from mirada.services.deferred_deletes import delete_after_commit
from mirada.services.errors import Busy, Conflict, NotFound, ServiceError, detached
from mirada.services.images import decoded_upload
from mirada.services.photos import clean_filename, stored_photo
from mirada.services.projects import project_prefix, unless_taken
from mirada.services.quotas import Incoming, check_room
from mirada.storage import BlobStore
from mirada.vision.budget import DecodeBudget

EXAMPLES_PAGE_SIZE = 60
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _duplicate(class_name: str | None = None) -> Conflict:
    if class_name is None:
        return Conflict("duplicate")
    return Conflict("duplicate", name=class_name)


@dataclass(frozen=True)
class LabelledUpload:
    """A file to add as an example of the class called ``class_name``."""

    class_name: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class ExampleOutcome:
    """What became of one file: a new example, or why it was refused (code and params)."""

    filename: str
    example: Example | None = None
    error: ServiceError | None = None


@dataclass(frozen=True)
class _Store:
    """What storing a photo takes."""

    settings: Settings
    blobs: BlobStore
    budget: DecodeBudget
    source: str = "upload"
    upload_id: str | None = None


@dataclass
class _Batch:
    """What ``add_examples`` knows as it goes: classes by key, photos held by hash."""

    classes: dict[str, ProjectClass]
    held: dict[str, str]
    create_classes: bool
    created: set[int] = field(default_factory=set)
    used: set[int] = field(default_factory=set)
    busy: Busy | None = None


def add_examples(
    *,
    session: Session,
    project: Project,
    uploads: Iterable[LabelledUpload],
    settings: Settings,
    blobs: BlobStore,
    budget: DecodeBudget,
    create_classes: bool = False,
    upload_id: str | None = None,
    incoming: Incoming | None = None,
    checkpoint: Callable[[], None] | None = None,
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
    A refused file leaves nothing in the session; the door commits the others. A door
    storing many files passes ``checkpoint`` (its commit), called after each file, so that
    a long import neither holds the database's write lock to the end nor loses the
    photos already stored when it is cut short.
    """
    if incoming is None:
        if not isinstance(uploads, Sequence):
            raise TypeError("say what is incoming when the uploads are read as they come")
        incoming = Incoming(photos=len(uploads), size=sum(len(u.data) for u in uploads))
    check_room(
        session=session,
        user_id=project.user_id,
        settings=settings,
        photos=incoming.photos,
        size=incoming.size,
    )
    batch = _Batch(
        classes={cls.name_key: cls for cls in project.classes},
        held=_held_photos(session, project),
        create_classes=create_classes,
    )
    store = _Store(settings=settings, blobs=blobs, budget=budget, upload_id=upload_id)
    outcomes = []
    for upload in uploads:
        outcomes.append(_add_one(session, project, upload, batch, store))
        if checkpoint is not None:
            checkpoint()
    if batch.created - batch.used:  # classes made for files all refused: leave nothing behind
        session.execute(delete(ProjectClass).where(ProjectClass.id.in_(batch.created - batch.used)))
        session.expire(project, ["classes"])
    return outcomes


def _add_one(
    session: Session, project: Project, upload: LabelledUpload, batch: _Batch, store: _Store
) -> ExampleOutcome:
    filename = clean_filename(upload.filename)
    if batch.busy is not None:
        return ExampleOutcome(filename, error=batch.busy)
    digest: str | None = None
    try:
        cls = _class_for(session, project, upload.class_name, batch)
        digest = hashlib.sha256(upload.data).hexdigest()
        if digest not in batch.held:  # stored by another request since we looked?
            batch.held.update(_held_photos(session, project, digest))
        if digest in batch.held:  # refused before decoding, not after
            raise _duplicate(batch.held[digest])
        example = _store_example(session, project, cls, filename, upload.data, digest, store)
    except ServiceError as exc:
        if exc.code == "duplicate" and digest is not None and digest not in batch.held:
            batch.held.update(_held_photos(session, project, digest))  # a concurrent upload won
        batch.busy = exc if isinstance(exc, Busy) else None
        return ExampleOutcome(filename, error=detached(exc))
    batch.held[digest] = cls.name
    batch.used.add(cls.id)
    return ExampleOutcome(filename, example=example)


def _class_for(session: Session, project: Project, class_name: str, batch: _Batch) -> ProjectClass:
    cls = batch.classes.get(name_key(class_name))
    if cls is not None:
        return cls
    if not batch.create_classes:
        raise NotFound("class_not_found")
    cls = add_class(session=session, project=project, name=class_name)
    batch.classes[cls.name_key] = cls
    batch.created.add(cls.id)
    return cls


def _held_photos(session: Session, project: Project, digest: str | None = None) -> dict[str, str]:
    """The photos ``project`` holds now, by their bytes' hash: the class each is in (only the
    photo with ``digest``, when given)."""
    query = (
        select(Example.sha256, ProjectClass.name)
        .join(ProjectClass, Example.class_id == ProjectClass.id)
        .where(Example.project_id == project.id)
    )
    if digest is not None:
        query = query.where(Example.sha256 == digest)
    return {sha: name for sha, name in session.execute(query)}


def _store_example(
    session: Session,
    project: Project,
    cls: ProjectClass,
    filename: str,
    data: bytes,
    digest: str,
    store: _Store,
) -> Example:
    prefix = project_prefix(project)
    with (
        decoded_upload(data, settings=store.settings, budget=store.budget) as image,
        stored_photo(blobs=store.blobs, prefix=prefix, data=data, image=image) as files,
    ):
        # Checked again, locked, for the bytes as stored: concurrent uploads cannot overshoot.
        check_room(
            session=session,
            user_id=project.user_id,
            settings=store.settings,
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
            source=store.source,
            size_bytes=files.size_bytes,
            upload_id=store.upload_id,
        )
        with unless_taken(session, _duplicate()):
            session.add(example)
    return example


def add_example_from_blob(
    *,
    session: Session,
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
    existing = session.scalar(
        select(Example).where(Example.project_id == project.id, Example.sha256 == digest)
    )
    if existing is not None:
        existing.class_id = cls.id
        session.flush()
        return existing
    store = _Store(settings=settings, blobs=blobs, budget=budget, source="feedback")
    return _store_example(session, project, cls, filename, data, digest, store)


def check_upload_id(raw: str) -> str | None:
    """A client's upload id (8 to 64 letters, digits, ``-`` or ``_``), None when not given."""
    raw = raw.strip()
    if not raw:
        return None
    if not UPLOAD_ID.fullmatch(raw):
        raise ServiceError("upload_id_invalid")
    return raw


def uploaded_examples(*, session: Session, project: Project, upload_id: str) -> list[Example]:
    """The examples of the project that arrived with ``upload_id``, oldest first."""
    return list(
        session.scalars(
            select(Example)
            .where(Example.project_id == project.id, Example.upload_id == upload_id)
            .order_by(Example.id)
        )
    )


def list_examples(
    *,
    session: Session,
    cls: ProjectClass,
    after: int | None = None,
    limit: int = EXAMPLES_PAGE_SIZE,
) -> tuple[list[Example], int | None]:
    """A page of the class's examples, oldest first, and the cursor of the next page."""
    query = select(Example).where(Example.class_id == cls.id)
    if after is not None:
        query = query.where(Example.id > after)
    rows = list(session.scalars(query.order_by(Example.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def get_example(*, session: Session, project: Project, example_id: int) -> Example:
    """An example of the project, or NotFound."""
    example = session.scalar(
        select(Example).where(Example.id == example_id, Example.project_id == project.id)
    )
    if example is None:
        raise NotFound("example_not_found")
    return example


def find_examples(
    *, session: Session, project: Project, example_ids: Iterable[int]
) -> dict[int, Example]:
    """The project's examples among ``example_ids``, by id (deleted or foreign ones left out)."""
    ids = sorted(set(example_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(Example).where(Example.project_id == project.id, Example.id.in_(ids))
    )
    return {row.id: row for row in rows}


def _selected(session: Session, project: Project, example_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(example_ids))
    found = list(
        session.scalars(
            select(Example.id).where(Example.project_id == project.id, Example.id.in_(ids))
        )
    )
    if not ids or len(found) != len(ids):
        raise NotFound("example_not_found")
    return found


def move_examples(
    *, session: Session, project: Project, example_ids: Iterable[int], target: ProjectClass
) -> int:
    """Give the chosen examples another class of the same project."""
    if target.project_id != project.id:
        raise NotFound("class_not_found")
    ids = _selected(session, project, example_ids)
    session.execute(update(Example).where(Example.id.in_(ids)).values(class_id=target.id))
    return len(ids)


def delete_examples(
    *, session: Session, project: Project, example_ids: Iterable[int], blobs: BlobStore
) -> int:
    """Delete the chosen examples (their files once the door commits)."""
    ids = _selected(session, project, example_ids)
    query = select(Example).where(Example.id.in_(ids))
    keys = [key for row in session.scalars(query) for key in (row.image_key, row.thumbnail_key)]
    session.execute(delete(Example).where(Example.id.in_(ids)))
    delete_after_commit(session=session, blobs=blobs, keys=keys)
    return len(ids)
