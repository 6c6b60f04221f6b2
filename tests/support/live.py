"""A cookie-keeping HTTP client for a real ``mirada serve`` (see ``tests.support.server``)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlencode

from tests.support.web import csrf_token_in


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads the 302 itself


@dataclass
class Reply:
    """What the server answered."""

    status: int
    headers: Message
    body: str


class Browser:
    """Cookies, no redirects, forms posted with the CSRF token of the page they are on."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.cookies = CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _KeepRedirects()
        )

    def request(
        self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - http on loopback
            self.url + path, data=body, headers=headers or {}
        )
        try:
            response = self._opener.open(request, timeout=120)
        except urllib.error.HTTPError as error:
            response = error
        except (urllib.error.URLError, ConnectionError):
            return Reply(0, Message(), "")
        with response:
            return Reply(response.status, response.headers, response.read().decode())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request(path, headers=headers)

    def submit(self, path: str, fields: dict[str, str], **kwargs: Any) -> Reply:
        token = csrf_token_in(self.get(path).body)
        return self.request(path, {"csrf_token": token, **fields}, **kwargs)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)
