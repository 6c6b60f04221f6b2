"""A test client that posts forms with their CSRF token, like a browser."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class WebClient:
    """Gets a page, then posts to it (or to ``action``) with that page's CSRF token."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def submit(
        self, page: str, data: dict[str, Any], action: str | None = None, **kwargs: Any
    ) -> TestResponse:
        """Open ``page``, then post ``data`` to ``action`` (default: the page itself)."""
        html = self.client.get(page).get_data(as_text=True)
        return self.client.post(
            action or page, data={"csrf_token": csrf_token_in(html), **data}, **kwargs
        )

    def register(self, email: str, password: str = "correct horse battery") -> TestResponse:
        return self.submit(
            "/auth/register", {"email": email, "password": password, "confirm": password}
        )

    def login(
        self, email: str, password: str = "correct horse battery", **extra: Any
    ) -> TestResponse:
        return self.submit("/auth/login", {"email": email, "password": password, **extra})

    def logout(self) -> TestResponse:
        return self.submit("/", {}, action="/auth/logout")
