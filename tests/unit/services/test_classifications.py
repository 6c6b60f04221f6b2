"""The history services on a plain session: owner-only reads, keyset pages, and deletions
whose files go only once the caller commits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mirada.db import Classification, User
from mirada.services.classifications import (
    delete_classification,
    delete_history,
    get_classification,
    history,
)
from mirada.services.errors import NotFound
from mirada.storage import BlobNotFound
from mirada.storage.local import LocalBlobStore


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
