"""The blob store: images, thumbnails and models, by server-chosen keys.

One interface, one adapter per place the bytes live; ``blob_store_from`` picks it
from the settings: the data folder, or an S3-compatible store for ``s3://`` URLs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
    """The blob store the settings ask for (``blob_url`` ``s3://bucket/prefix``, or the
    data folder's ``blobs``)."""
    if not settings.blob_url:
        return LocalBlobStore(settings.resolved_data_dir / "blobs")
    parts = urlsplit(settings.blob_url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"MIRADA_BLOB_URL must be s3://bucket/prefix, not {settings.blob_url!r}")
    import boto3  # only the scaled-out mode pays for importing boto3

    from mirada.storage.s3 import S3BlobStore

    client = boto3.client(
        "s3",
        endpoint_url=settings.blob_endpoint_url or None,
        region_name=settings.blob_region,
        aws_access_key_id=settings.blob_access_key_id or None,
        aws_secret_access_key=settings.blob_secret_access_key or None,
    )
    return S3BlobStore(client, bucket=parts.netloc, prefix=parts.path)


__all__ = [
    "BlobNotFound",
    "BlobStore",
    "InvalidBlobKey",
    "LocalBlobStore",
    "blob_store_from",
    "check_key",
    "user_blob_prefix",
]
