"""How large a request body may be: the image limit, except where a zip or many photos come."""

from __future__ import annotations

from flask import request

from mirada.runtime import settings

ARCHIVE_ENDPOINTS = frozenset({"projects.import_archive"})
# Forms that take several photos at once (a page without JavaScript sends them all together).
PHOTOS_ENDPOINTS = frozenset({"projects.upload"})


def apply_body_limit() -> None:
    """Before each request: raise the body limit where larger bodies come (else Werkzeug's 413)."""
    if request.endpoint in ARCHIVE_ENDPOINTS:
        request.max_content_length = settings().max_archive_upload_bytes
    elif request.endpoint in PHOTOS_ENDPOINTS:
        request.max_content_length = settings().max_photos_upload_bytes
