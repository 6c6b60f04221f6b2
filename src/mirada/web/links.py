"""Absolute links for mail and the command line, never taken from an arbitrary Host header.

The public URL is ``MIRADA_BASE_URL`` when set. Otherwise, with ``MIRADA_TRUSTED_HOSTS``,
the request's host is one Flask has already checked against that list; and in development
with neither, links point at the address ``mirada serve`` listens on by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, has_request_context, request, url_for

from mirada.config import Settings
from mirada.runtime import settings

DEVELOPMENT_URL = "http://127.0.0.1:8000"


def public_url(config: Settings) -> str:
    """Scheme and host of the links Mirada hands out, without a trailing slash."""
    if config.base_url:
        return config.base_url.rstrip("/")
    named = [host for host in config.trusted_host_list if not host.startswith(".")]
    if named and has_request_context():
        return request.host_url.rstrip("/")  # Flask answered 400 to any other Host
    if named:
        return f"https://{named[0]}"
    return DEVELOPMENT_URL


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint``, for a mail or a terminal."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return public_url(settings()) + path


def link_maker(endpoint: str, param: str) -> Callable[[str], str]:
    """Makes absolute links to ``endpoint`` for values of ``param``, also after the request
    ended (for work done in the background)."""
    placeholder = "mirada-link-placeholder"
    template = external_url(endpoint, **{param: placeholder})
    return lambda value: template.replace(placeholder, value)
