"""How large a request body may be: the image limit, except where a zip of examples comes."""

from __future__ import annotations

from flask import request

from mirada.runtime import settings

ARCHIVE_ENDPOINTS = frozenset({"projects.import_archive"})


def apply_body_limit() -> None:
    """Before each request: raise the body limit for archive uploads (Werkzeug answers 413)."""
    if request.endpoint in ARCHIVE_ENDPOINTS:
        request.max_content_length = settings().max_archive_upload_bytes
