"""Serving a stored photo or its thumbnail to its owner (the caller checks ownership)."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from flask import Response, abort

from mirada.runtime import blobs
from mirada.services.images import content_type_of
from mirada.storage import BlobNotFound

MEDIA_KINDS = ("image", "thumbnail")


class StoredPhoto(Protocol):
    """A row whose photo and thumbnail live in the blob store."""

    image_key: str
    thumbnail_key: str
    content_type: str


def photo_response(photo: StoredPhoto, kind: str) -> Response:
    """The photo (``kind`` "image") or its thumbnail, never kept in a cache; 404 otherwise.

    ``no-store``: after signing out or deleting the photo, the browser holds no copy.
    """
    if kind not in MEDIA_KINDS:
        abort(404)
    key = photo.image_key if kind == "image" else photo.thumbnail_key
    try:
        data = blobs().get(key)
    except BlobNotFound:
        abort(404)
    # A thumbnail is a JPEG, or a WebP for the older ones: its bytes say which.
    content_type = photo.content_type if kind == "image" else content_type_of(data)
    response = Response(data, content_type=content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


def attachment_header(ascii_name: str, real_name: str) -> str:
    """A Content-Disposition that downloads as ``real_name`` (RFC 6266 ``filename*``), or as
    ``ascii_name`` in clients that only read ``filename``."""
    header = f'attachment; filename="{ascii_name}"'
    if real_name != ascii_name:
        header += f"; filename*=UTF-8''{quote(real_name, safe='')}"
    return header
