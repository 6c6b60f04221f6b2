"""Classifying and the history on a plain session: what is kept and what is refused,
owner-only reads, keyset pages, and deletions whose files go only once the caller commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Classification, User
from mirada.inference.in_process import InProcessInference
from mirada.services.classifications import (
    Upload,
    UploadOutcome,
    classify_uploads,
    delete_classification,
    delete_history,
    get_classification,
    history,
)
from mirada.services.classifiers import ChosenModel, imagenet_model
from mirada.services.errors import NotFound
from mirada.services.quotas import QuotaExceeded
from mirada.storage import BlobNotFound
from mirada.storage.local import LocalBlobStore
from mirada.vision.budget import DecodeBudget


def user(session: Session, email: str) -> User:
    row = User(email=email, password_hash="x")
    session.add(row)
    session.flush()
    return row


def classified(session: Session, blobs: LocalBlobStore, owner: User, n: int) -> Classification:
    keys = (f"users/{owner.id}/images/{n}", f"users/{owner.id}/thumbnails/{n}")
    for key in keys:
        blobs.put(key, b"photo")
    row = Classification(
        user_id=owner.id,
        filename=f"{n}.jpg",
        content_type="image/jpeg",
        image_key=keys[0],
        thumbnail_key=keys[1],
        width=10,
        height=10,
        size_bytes=5,
        model_name="imagenet/test",
        model_version="1",
        confident=True,
        top_label="tabby",
        top_score=0.9,
        predictions=[{"index": 281, "label": "tabby", "score": 0.9}],
    )
    session.add(row)
    session.flush()
    return row


def stored(blobs: LocalBlobStore, row: Classification) -> list[bool]:
    return [exists(blobs, row.image_key), exists(blobs, row.thumbnail_key)]


def exists(blobs: LocalBlobStore, key: str) -> bool:
    try:
        blobs.get(key)
    except BlobNotFound:
        return False
    return True


def count(session: Session) -> int:
    return session.scalar(select(func.count(Classification.id))) or 0


@pytest.fixture()
def ana(session: Session) -> User:
    return user(session, "ana@example.com")


def test_history_pages_newest_first(session: Session, blobs: LocalBlobStore, ana: User) -> None:
    rows = [classified(session, blobs, ana, n) for n in range(5)]
    classified(session, blobs, user(session, "bo@example.com"), 99)
    first = history(session=session, user=ana, limit=2)
    assert first.items == [rows[4], rows[3]]
    second = history(session=session, user=ana, before=first.older_than, limit=2)
    assert second.items == [rows[2], rows[1]]
    last = history(session=session, user=ana, before=second.older_than, limit=2)
    assert (last.items, last.older_than) == ([rows[0]], None)


def test_someone_elses_classification_is_not_found(
    session: Session, blobs: LocalBlobStore, ana: User
) -> None:
    row = classified(session, blobs, ana, 1)
    assert get_classification(session=session, user=ana, classification_id=row.id) is row
    bo = user(session, "bo@example.com")
    with pytest.raises(NotFound) as refusal:
        get_classification(session=session, user=bo, classification_id=row.id)
    assert refusal.value.code == "classification_not_found"
    with pytest.raises(NotFound):
        delete_classification(session=session, user=bo, classification_id=row.id, blobs=blobs)
    assert stored(blobs, row) == [True, True]


def test_deleting_keeps_the_files_until_the_commit(
    session: Session, blobs: LocalBlobStore, ana: User
) -> None:
    row = classified(session, blobs, ana, 1)
    session.commit()
    delete_classification(session=session, user=ana, classification_id=row.id, blobs=blobs)
    assert stored(blobs, row) == [True, True]  # a failed commit would leave the row: keep them
    session.commit()
    assert stored(blobs, row) == [False, False]
    assert count(session) == 0


def test_a_rolled_back_deletion_keeps_row_and_files(
    session: Session, blobs: LocalBlobStore, ana: User
) -> None:
    row = classified(session, blobs, ana, 1)
    session.commit()
    delete_classification(session=session, user=ana, classification_id=row.id, blobs=blobs)
    session.rollback()
    session.commit()  # a later transaction does not delete them either
    assert count(session) == 1
    assert stored(blobs, row) == [True, True]


def test_a_deletion_in_a_rolled_back_savepoint_keeps_the_files(
    session: Session, blobs: LocalBlobStore, ana: User
) -> None:
    kept, gone = classified(session, blobs, ana, 1), classified(session, blobs, ana, 2)
    session.commit()
    savepoint = session.begin_nested()
    delete_classification(session=session, user=ana, classification_id=kept.id, blobs=blobs)
    savepoint.rollback()
    with session.begin_nested():  # a released savepoint waits for the outer commit
        delete_classification(session=session, user=ana, classification_id=gone.id, blobs=blobs)
    assert stored(blobs, gone) == [True, True]
    session.commit()
    assert (stored(blobs, kept), stored(blobs, gone)) == ([True, True], [False, False])


def test_deleting_the_history_counts_and_keeps_others(
    session: Session, blobs: LocalBlobStore, ana: User
) -> None:
    mine = [classified(session, blobs, ana, n) for n in range(3)]
    theirs = classified(session, blobs, user(session, "bo@example.com"), 9)
    session.commit()
    assert delete_history(session=session, user=ana, blobs=blobs) == 3
    assert all(stored(blobs, row) == [True, True] for row in mine)
    session.commit()
    assert all(stored(blobs, row) == [False, False] for row in mine)
    assert stored(blobs, theirs) == [True, True]
    assert count(session) == 1
    assert delete_history(session=session, user=ana, blobs=blobs) == 0


@pytest.fixture(scope="module")
def imagenet(model_path: Path) -> ChosenModel:
    return imagenet_model(inference=InProcessInference(model_path=model_path, threads=1))


def blob_files(settings: Settings) -> list[Path]:
    root = settings.resolved_data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def classify(
    session: Session,
    settings: Settings,
    blobs: LocalBlobStore,
    owner: User,
    model: ChosenModel,
    files: list[tuple[str, bytes]],
    budget: DecodeBudget | None = None,
) -> list[UploadOutcome]:
    return classify_uploads(
        session=session,
        user=owner,
        uploads=[Upload(name, data) for name, data in files],
        settings=settings,
        model=model,
        blobs=blobs,
        budget=budget or DecodeBudget(10**9),
    )


def test_accepted_photos_are_kept_and_refused_ones_leave_nothing(
    session: Session,
    service_settings: Settings,
    blobs: LocalBlobStore,
    ana: User,
    imagenet: ChosenModel,
    cat_jpeg: bytes,
) -> None:
    cat, notes = classify(
        session,
        service_settings,
        blobs,
        ana,
        imagenet,
        [("photos/cat.jpg", cat_jpeg), ("notes.jpg", b"not a photo")],
    )
    assert cat.error is None and cat.classification is not None
    assert cat.classification.id is not None  # flushed: the page links to it
    assert (cat.filename, cat.classification.filename) == ("cat.jpg", "cat.jpg")
    assert "cat" in cat.classification.top_label
    assert notes.classification is None and notes.error is not None
    assert notes.error.code == "unsupported_format"
    assert len(blob_files(service_settings)) == 2  # the cat's image and thumbnail
    session.commit()
    assert count(session) == 1


def test_uploads_over_the_limits_are_refused_before_any_work(
    session: Session,
    service_settings: Settings,
    blobs: LocalBlobStore,
    ana: User,
    imagenet: ChosenModel,
    cat_jpeg: bytes,
) -> None:
    ana.photo_limit = 1
    with pytest.raises(QuotaExceeded) as refusal:
        classify(session, service_settings, blobs, ana, imagenet, [("a.jpg", cat_jpeg)] * 2)
    assert refusal.value.code == "photo_limit"
    assert blob_files(service_settings) == []
    assert count(session) == 0


def test_without_room_to_decode_the_uploads_are_busy(
    session: Session,
    service_settings: Settings,
    blobs: LocalBlobStore,
    ana: User,
    imagenet: ChosenModel,
    cat_jpeg: bytes,
) -> None:
    budget = DecodeBudget(10**9)
    budget.acquire(budget.capacity, timeout=0)  # other requests hold it all
    settings = service_settings.model_copy(update={"decode_wait_s": 0.01})
    outcomes = classify(
        session, settings, blobs, ana, imagenet, [("b", b""), ("a.jpg", cat_jpeg)], budget
    )
    assert [o.error.code if o.error else None for o in outcomes] == ["empty", "busy"]
    assert blob_files(settings) == []
    assert count(session) == 0


def test_a_failure_while_keeping_removes_the_stored_files(
    session: Session,
    service_settings: Settings,
    blobs: LocalBlobStore,
    imagenet: ChosenModel,
    cat_jpeg: bytes,
) -> None:
    nobody = User(id=999, email="gone@example.com", password_hash="x")  # not in the database
    with pytest.raises(IntegrityError):
        classify(session, service_settings, blobs, nobody, imagenet, [("a.jpg", cat_jpeg)])
    assert blob_files(service_settings) == []
