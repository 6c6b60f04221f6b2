"""The blob store: images, thumbnails and models, by server-chosen keys.

One interface, one adapter per place the bytes live; ``blob_store_from`` picks it
from the settings (only the local folder so far).
"""

from __future__ import annotations

from mirada.config import Settings
from mirada.storage.base import (
    BlobNotFound,
    BlobStore,
    InvalidBlobKey,
    check_key,
    user_blob_prefix,
)
from mirada.storage.local import LocalBlobStore


def blob_store_from(settings: Settings) -> BlobStore:
    """The blob store the settings ask for."""
    return LocalBlobStore(settings.resolved_data_dir / "blobs")


__all__ = [
    "BlobNotFound",
    "BlobStore",
    "InvalidBlobKey",
    "LocalBlobStore",
    "blob_store_from",
    "check_key",
    "user_blob_prefix",
]
