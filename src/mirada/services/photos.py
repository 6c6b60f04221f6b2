"""Putting an accepted photo and its thumbnail into the blob store, all or nothing, and
removing files once the rows that pointed at them are gone for good."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image

from mirada.services.images import content_type_of
from mirada.storage import BlobStore
from mirada.vision.thumbnail import make_thumbnail

MAX_FILENAME_LENGTH = 255


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
