"""How large a request body may be: the image limit, except where a zip or many photos come."""

from __future__ import annotations

from flask import request

from mirada.config import Settings
from mirada.runtime import settings

ARCHIVE_ENDPOINTS = frozenset({"projects.import_archive"})
# Forms that take several photos at once (a page without JavaScript sends them all together).
PHOTOS_ENDPOINTS = frozenset({"projects.upload"})
FORM_OVERHEAD_BYTES = 1024 * 1024  # multipart boundaries and the form's other fields
SESSION_COOKIE_NAME = "mirada_session"
# What a browser without a session may send: sign-in and sign-up forms, never photos.
ANONYMOUS_BODY_BYTES = FORM_OVERHEAD_BYTES


def body_limit(endpoint: str | None, config: Settings, *, signed_in: bool = True) -> int:
    """The largest body a request to ``endpoint`` may send (the server refuses more up front);
    a browser without a session may send a form's worth only."""
    if not signed_in:
        return ANONYMOUS_BODY_BYTES
    if endpoint in ARCHIVE_ENDPOINTS:
        return config.max_archive_upload_bytes
    if endpoint in PHOTOS_ENDPOINTS:
        return config.max_photos_upload_bytes
    return config.max_upload_bytes + FORM_OVERHEAD_BYTES


def apply_body_limit() -> None:
    """Before each request: the body limit of its endpoint (Werkzeug answers 413)."""
    request.max_content_length = body_limit(
        request.endpoint, settings(), signed_in=SESSION_COOKIE_NAME in request.cookies
    )
