"""Putting an accepted photo and its thumbnail into the blob store, all or nothing, and
removing files once the rows that pointed at them are gone for good."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from mirada.services.images import content_type_of
from mirada.storage import BlobStore
from mirada.vision.thumbnail import make_thumbnail

MAX_FILENAME_LENGTH = 255
_PENDING = "mirada.blobs_to_delete"


@dataclass(frozen=True)
class StoredFiles:
    """Where a photo and its thumbnail were put, the photo's media type and its bytes."""

    image_key: str
    thumbnail_key: str
    content_type: str
    size_bytes: int


def clean_filename(name: str) -> str:
    """The last part of a client's file name, printable characters only (for display)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:MAX_FILENAME_LENGTH]


@contextmanager
def stored_photo(
    *, blobs: BlobStore, prefix: str, data: bytes, image: Image.Image
) -> Iterator[StoredFiles]:
    """Store the photo under a server-chosen name; if the block fails, remove it.

    The block adds the row that points at the files (in a savepoint of its own, so that a
    failure undoes the row); the door commits it. The files are written before the row is
    committed, so a process killed in between leaves files no row owns (which
    ``mirada storage sweep`` removes), never a row without its files.
    """
    name = uuid.uuid4().hex
    thumbnail = make_thumbnail(image)
    files = StoredFiles(
        image_key=f"{prefix}/images/{name}",
        thumbnail_key=f"{prefix}/thumbnails/{name}",
        content_type=content_type_of(data),
        size_bytes=len(data),  # what the user sent: what their storage limit counts
    )
    try:
        blobs.put(files.image_key, data)
        blobs.put(files.thumbnail_key, thumbnail)
        yield files
    except BaseException:
        blobs.delete(files.image_key)
        blobs.delete(files.thumbnail_key)
        raise


def delete_blobs(blobs: BlobStore, keys: Iterable[str]) -> None:
    """Delete each of ``keys`` (missing ones are fine)."""
    for key in keys:
        blobs.delete(key)


def delete_after_commit(
    session: Session,
    blobs: BlobStore,
    *,
    keys: Iterable[str] = (),
    prefixes: Iterable[str] = (),
) -> None:
    """Delete these blobs once ``session`` commits (the rows that owned them are deleted in
    it); forget them if it rolls back. Rows go before their files: never a row without files."""
    pending: list[tuple[BlobStore, list[str], list[str]]] = session.info.setdefault(_PENDING, [])
    pending.append((blobs, list(keys), list(prefixes)))
    if not event.contains(session, "after_commit", _delete_pending):
        event.listen(session, "after_commit", _delete_pending)
        event.listen(session, "after_soft_rollback", _forget_pending)


def _delete_pending(session: Session) -> None:
    for blobs, keys, prefixes in session.info.pop(_PENDING, []):
        for prefix in prefixes:
            blobs.delete_prefix(prefix)
        delete_blobs(blobs, keys)


def _forget_pending(session: Session, previous_transaction: SessionTransaction, *_: Any) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
