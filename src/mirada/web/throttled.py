"""Who is counted when requests are throttled, and what a page view answers."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

Page = str | Response | tuple[str | Response, int] | tuple[str, int, dict[str, str]]


def client_address() -> str:
    """The client's address (as the proxy saw it when MIRADA_PROXY_COUNT trusts one)."""
    return request.remote_addr or "unknown"
