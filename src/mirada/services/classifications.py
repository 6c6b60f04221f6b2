"""Classifying photos (ImageNet or a project) and keeping them in the user's history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Classification, User
from mirada.services.classifiers import ChosenModel, Photo
from mirada.services.deferred_deletes import delete_after_commit
from mirada.services.errors import NotFound, ServiceError, detached
from mirada.services.images import busy, decode_upload, decoded_batches, read_upload
from mirada.services.photos import StoredFiles, clean_filename, stored_photo
from mirada.services.quotas import QuotaExceeded, check_room
from mirada.storage import BlobStore, user_blob_prefix
from mirada.vision.budget import BudgetExhausted, DecodeBudget
from mirada.vision.intake import Header
from mirada.vision.predictions import Prediction

HISTORY_PAGE_SIZE = 24


RANK_BATCH = 16


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the client gave it and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one upload: a stored classification, or why it was refused."""

    filename: str
    classification: Classification | None = None
    error: ServiceError | None = None


@dataclass(frozen=True)
class _Ranked:
    """A classified upload whose files are stored and whose row is not written yet."""

    position: int
    files: StoredFiles
    width: int
    height: int
    predictions: list[Prediction]


def classify_uploads(
    *,
    session: Session,
    user: User,
    uploads: Sequence[Upload],
    settings: Settings,
    model: ChosenModel,
    blobs: BlobStore,
    budget: DecodeBudget,
) -> list[UploadOutcome]:
    """Classify each upload and keep the accepted ones; refused ones leave nothing behind.

    Uploads over the user's limits are refused whole, before any work. Decoding reserves
    memory from ``budget``; past ``settings.decode_wait_s`` the rest are refused ``busy``.
    Files are stored as photos are classified, rows written (flushed) only at the end: no
    write transaction waits on decoding. The caller commits; if this raises, the files it
    stored are removed.
    """
    check_room(
        session=session,
        user_id=user.id,
        settings=settings,
        photos=len(uploads),
        size=sum(len(upload.data) for upload in uploads),
    )
    refused: dict[int, UploadOutcome] = {}

    def refuse(position: int, error: ServiceError) -> None:
        """The first reason an upload was refused is the one it is told."""
        refused.setdefault(
            position,
            UploadOutcome(clean_filename(uploads[position].filename), error=detached(error)),
        )

    ranked: list[_Ranked] = []
    try:
        _rank_all(
            uploads=uploads,
            model=model,
            settings=settings,
            blobs=blobs,
            budget=budget,
            prefix=user_blob_prefix(user.id),
            refuse=refuse,
            ranked=ranked,
        )
        kept = _keep(
            session=session,
            user=user,
            uploads=uploads,
            ranked=ranked,
            model=model,
            settings=settings,
            blobs=blobs,
        )
    except BaseException:
        for entry in ranked:
            _remove(blobs, entry.files)
        raise
    return [refused.get(position) or kept[position] for position in range(len(uploads))]


def _rank_all(
    *,
    uploads: Sequence[Upload],
    model: ChosenModel,
    settings: Settings,
    blobs: BlobStore,
    budget: DecodeBudget,
    prefix: str,
    refuse: Callable[[int, ServiceError], None],
    ranked: list[_Ranked],
) -> None:
    """Decode, rank and store the files of each upload, appending to ``ranked``; refuse the
    unreadable ones, and the ones not reached when decoding finds no room in time."""

    def read(position: int) -> Header | None:
        try:
            return read_upload(uploads[position].data, settings=settings)
        except ServiceError as exc:
            refuse(position, exc)
            return None

    def decode(position: int, header: Header) -> Image.Image | None:
        try:
            return decode_upload(header, settings=settings)
        except ServiceError as exc:
            refuse(position, exc)
            return None

    batches = decoded_batches(
        range(len(uploads)),
        read,
        decode,
        max_count=RANK_BATCH,
        budget=budget,
        timeout=settings.decode_wait_s,
    )
    done: set[int] = set()
    try:
        for batch in batches:
            predictions = model.rank([Photo(uploads[p].data, image) for p, image in batch])
            for (position, image), ranks in zip(batch, predictions, strict=True):
                data = uploads[position].data
                with stored_photo(blobs=blobs, prefix=prefix, data=data, image=image) as files:
                    ranked.append(_Ranked(position, files, image.width, image.height, ranks))
                done.add(position)
    except BudgetExhausted:
        for position in range(len(uploads)):
            if position not in done:
                refuse(position, busy(settings=settings))


def _keep(
    *,
    session: Session,
    user: User,
    uploads: Sequence[Upload],
    ranked: list[_Ranked],
    model: ChosenModel,
    settings: Settings,
    blobs: BlobStore,
) -> dict[int, UploadOutcome]:
    """Write the rows of the ranked uploads. Each is checked against the limits again,
    locked: a photo refused because a concurrent upload took the room first is refused
    alone (its files removed)."""
    outcomes: dict[int, UploadOutcome] = {}
    for entry in ranked:
        filename = clean_filename(uploads[entry.position].filename)
        try:
            check_room(
                session=session,
                user_id=user.id,
                settings=settings,
                photos=1,
                size=entry.files.size_bytes,
                lock=True,
            )
        except QuotaExceeded as exc:
            _remove(blobs, entry.files)
            outcomes[entry.position] = UploadOutcome(filename, error=detached(exc))
            continue
        row = _row(user=user, filename=filename, entry=entry, model=model)
        session.add(row)
        outcomes[entry.position] = UploadOutcome(filename, classification=row)
    session.flush()
    return outcomes


def _row(*, user: User, filename: str, entry: _Ranked, model: ChosenModel) -> Classification:
    top = entry.predictions[0]
    return Classification(
        user_id=user.id,
        filename=filename,
        content_type=entry.files.content_type,
        image_key=entry.files.image_key,
        thumbnail_key=entry.files.thumbnail_key,
        width=entry.width,
        height=entry.height,
        size_bytes=entry.files.size_bytes,
        model_name=model.name,
        model_version=model.version,
        project_id=model.project_id,
        version_id=model.version_id,
        confident=top.score >= model.threshold,
        top_label=top.label,
        top_score=top.score,
        predictions=[
            {"index": p.index, "label": p.label, "score": p.score} for p in entry.predictions
        ],
    )


def _remove(blobs: BlobStore, files: StoredFiles) -> None:
    blobs.delete(files.image_key)
    blobs.delete(files.thumbnail_key)


@dataclass(frozen=True)
class HistoryPage:
    """A page of the history, newest first, and the cursor of the next (older) page."""

    items: list[Classification]
    older_than: int | None


def history(
    *, session: Session, user: User, before: int | None = None, limit: int = HISTORY_PAGE_SIZE
) -> HistoryPage:
    """The user's classifications older than id ``before``, newest first.

    Keyset pagination on the (user_id, id) index: as fast on page 1000 as on page 1.
    """
    query = select(Classification).where(Classification.user_id == user.id)
    if before is not None:
        query = query.where(Classification.id < before)
    rows = list(session.scalars(query.order_by(Classification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(items=rows, older_than=rows[-1].id if more else None)


def get_classification(*, session: Session, user: User, classification_id: int) -> Classification:
    """One of the user's classifications; anyone else's answers NotFound."""
    row = session.scalar(
        select(Classification).where(
            Classification.id == classification_id, Classification.user_id == user.id
        )
    )
    if row is None:
        raise NotFound("classification_not_found")
    return row


def delete_classification(
    *, session: Session, user: User, classification_id: int, blobs: BlobStore
) -> None:
    """Delete one classification; its files go once the caller commits."""
    row = get_classification(session=session, user=user, classification_id=classification_id)
    keys = (row.image_key, row.thumbnail_key)
    session.delete(row)
    session.flush()
    delete_after_commit(session=session, blobs=blobs, keys=keys)


def delete_history(*, session: Session, user: User, blobs: BlobStore) -> int:
    """Delete all of the user's classifications (their files once the caller commits);
    returns how many."""
    rows = session.execute(
        select(Classification.image_key, Classification.thumbnail_key).where(
            Classification.user_id == user.id
        )
    ).all()
    session.execute(delete(Classification).where(Classification.user_id == user.id))
    keys = [key for image_key, thumbnail_key in rows for key in (image_key, thumbnail_key)]
    delete_after_commit(session=session, blobs=blobs, keys=keys)
    return len(rows)
