"""Putting an accepted photo and its thumbnail into the blob store, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image

from mirada.db import db
from mirada.services.images import content_type_of
from mirada.storage import BlobStore
from mirada.vision.thumbnail import make_thumbnail

MAX_FILENAME_LENGTH = 255


@dataclass(frozen=True)
class StoredFiles:
    """Where a photo and its thumbnail were put, and the photo's media type."""

    image_key: str
    thumbnail_key: str
    content_type: str


def clean_filename(name: str) -> str:
    """The last part of a client's file name, printable characters only (for display)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:MAX_FILENAME_LENGTH]


@contextmanager
def stored_photo(
    *, blobs: BlobStore, prefix: str, data: bytes, image: Image.Image
) -> Iterator[StoredFiles]:
    """Store the photo under a server-chosen name; if the block fails, roll back and remove it.

    The block adds and commits the row that points at the files.
    """
    name = uuid.uuid4().hex
    files = StoredFiles(
        image_key=f"{prefix}/images/{name}",
        thumbnail_key=f"{prefix}/thumbnails/{name}",
        content_type=content_type_of(data),
    )
    blobs.put(files.image_key, data)
    try:
        blobs.put(files.thumbnail_key, make_thumbnail(image))
        yield files
    except BaseException:
        db.session.rollback()
        blobs.delete(files.image_key)
        blobs.delete(files.thumbnail_key)
        raise
