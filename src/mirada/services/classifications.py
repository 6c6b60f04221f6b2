"""Classifying photos (ImageNet or a project) and keeping them in the user's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import delete, select

from mirada.config import Settings
from mirada.db import Classification, User, db
from mirada.services.classifiers import ChosenModel
from mirada.services.errors import NotFound, ServiceError, detached
from mirada.services.images import busy, decode_upload, decoded_batches, read_upload
from mirada.services.photos import clean_filename, stored_photo
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


def classify_uploads(
    *,
    user: User,
    uploads: Sequence[Upload],
    settings: Settings,
    model: ChosenModel,
    blobs: BlobStore,
    budget: DecodeBudget,
) -> list[UploadOutcome]:
    """Classify each upload and store the accepted ones; refused ones leave nothing behind.

    Uploads that would take the user over their limits are refused whole, before any work.
    Decoding reserves memory from ``budget``; when none frees up within
    ``settings.decode_wait_s`` the uploads not yet classified are refused as ``busy``.
    """
    check_room(
        user_id=user.id,
        settings=settings,
        photos=len(uploads),
        size=sum(len(upload.data) for upload in uploads),
    )
    refused: dict[int, UploadOutcome] = {}

    def refuse(position: int, error: ServiceError) -> None:
        refused[position] = UploadOutcome(
            clean_filename(uploads[position].filename), error=detached(error)
        )

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

    outcomes: dict[int, UploadOutcome] = {}
    batches = decoded_batches(
        range(len(uploads)),
        read,
        decode,
        max_count=RANK_BATCH,
        budget=budget,
        timeout=settings.decode_wait_s,
    )
    try:
        for batch in batches:
            outcomes.update(
                _classify_batch(
                    user=user,
                    uploads=uploads,
                    batch=batch,
                    model=model,
                    settings=settings,
                    blobs=blobs,
                )
            )
    except BudgetExhausted:
        for position in range(len(uploads)):
            if position not in outcomes and position not in refused:
                refuse(position, busy(settings))
    return [refused.get(position) or outcomes[position] for position in range(len(uploads))]


def _classify_batch(
    *,
    user: User,
    uploads: Sequence[Upload],
    batch: list[tuple[int, Image.Image]],
    model: ChosenModel,
    settings: Settings,
    blobs: BlobStore,
) -> dict[int, UploadOutcome]:
    """Rank and store one decoded batch (its images are dropped when this returns).

    A photo refused because a concurrent upload took the room first is refused alone."""
    ranked = model.rank([image for _, image in batch])
    outcomes: dict[int, UploadOutcome] = {}
    for (position, image), predictions in zip(batch, ranked, strict=True):
        try:
            outcomes[position] = _store(
                user=user,
                upload=uploads[position],
                image=image,
                predictions=predictions,
                model=model,
                settings=settings,
                blobs=blobs,
            )
        except QuotaExceeded as exc:
            outcomes[position] = UploadOutcome(
                clean_filename(uploads[position].filename), error=detached(exc)
            )
    return outcomes


def _store(
    *,
    user: User,
    upload: Upload,
    image: Image.Image,
    predictions: list[Prediction],
    model: ChosenModel,
    settings: Settings,
    blobs: BlobStore,
) -> UploadOutcome:
    filename = clean_filename(upload.filename)
    prefix = user_blob_prefix(user.id)
    with stored_photo(blobs=blobs, prefix=prefix, data=upload.data, image=image) as files:
        # Checked again, locked: concurrent uploads of one user cannot overshoot.
        check_room(user_id=user.id, settings=settings, photos=1, size=files.size_bytes, lock=True)
        row = Classification(
            user_id=user.id,
            filename=filename,
            content_type=files.content_type,
            image_key=files.image_key,
            thumbnail_key=files.thumbnail_key,
            width=image.width,
            height=image.height,
            size_bytes=files.size_bytes,
            model_name=model.name,
            model_version=model.version,
            project_id=model.project_id,
            version_id=model.version_id,
            confident=predictions[0].score >= model.threshold,
            top_label=predictions[0].label,
            top_score=predictions[0].score,
            predictions=[
                {"index": p.index, "label": p.label, "score": p.score} for p in predictions
            ],
        )
        db.session.add(row)
        db.session.commit()
    return UploadOutcome(filename, classification=row)


@dataclass(frozen=True)
class HistoryPage:
    """A page of the history, newest first, and the cursor of the next (older) page."""

    items: list[Classification]
    older_than: int | None


def history(
    *, user: User, before: int | None = None, limit: int = HISTORY_PAGE_SIZE
) -> HistoryPage:
    """The user's classifications older than id ``before``, newest first.

    Keyset pagination on the (user_id, id) index: as fast on page 1000 as on page 1.
    """
    query = select(Classification).where(Classification.user_id == user.id)
    if before is not None:
        query = query.where(Classification.id < before)
    rows = list(db.session.scalars(query.order_by(Classification.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(items=rows, older_than=rows[-1].id if more else None)


def get_classification(*, user: User, classification_id: int) -> Classification:
    """One of the user's classifications; anyone else's answers NotFound."""
    row = db.session.scalar(
        select(Classification).where(
            Classification.id == classification_id, Classification.user_id == user.id
        )
    )
    if row is None:
        raise NotFound("classification_not_found", _l("No such classification."))
    return row


def delete_classification(*, user: User, classification_id: int, blobs: BlobStore) -> None:
    """Delete one classification and its files."""
    row = get_classification(user=user, classification_id=classification_id)
    keys = (row.image_key, row.thumbnail_key)
    db.session.delete(row)
    db.session.commit()
    for key in keys:
        blobs.delete(key)


def delete_history(*, user: User, blobs: BlobStore) -> int:
    """Delete all of the user's classifications and their files; returns how many."""
    rows = db.session.execute(
        select(Classification.image_key, Classification.thumbnail_key).where(
            Classification.user_id == user.id
        )
    ).all()
    db.session.execute(delete(Classification).where(Classification.user_id == user.id))
    db.session.commit()
    for image_key, thumbnail_key in rows:
        blobs.delete(image_key)
        blobs.delete(thumbnail_key)
    return len(rows)
