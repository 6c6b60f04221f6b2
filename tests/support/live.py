"""A real ``mirada serve`` process for tests, and a cookie-keeping HTTP client for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.support.web import csrf_token_in

STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mirada(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    """Run ``mirada ARGS`` to completion; its standard output (fails the test on an error)."""
    script = Path(sys.executable).with_name("mirada")
    result = subprocess.run(
        [str(script), *args], env=env, input=stdin, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"mirada {args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def server_env(**settings: str) -> dict[str, str]:
    """This process's environment without its MIRADA_* variables, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MIRADA_")}
    env.update(PYTHONUNBUFFERED="1", **{f"MIRADA_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[str]:
    """``mirada serve ARGS`` on a free loopback port while the block runs; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).with_name("mirada")
    command = [str(script), "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while Browser(url).get("/healthz").status != 200:
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


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
