"""uvicorn's HTTP protocol with the limits a server facing slow or hostile clients needs.

uvicorn waits for a request's first bytes, its headers and its body as long as the client
likes, and httptools takes headers of any size. Here a request must arrive whole within
``READ_TIMEOUT_S`` of its first byte (or of the connection, for the first request), and
its headers may not pass ``MAX_HEADER_BYTES``: a client that dribbles, stalls or sends
endless headers is cut off, and its connection no longer counts against
``MIRADA_MAX_CONNECTIONS``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

READ_TIMEOUT_S = 10.0
MAX_HEADER_BYTES = 64 * 1024
CLOSE_AFTER_REFUSAL_S = 1.0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """A deadline for each request to arrive, and a cap on the bytes of its headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arrival: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self._arrived()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > MAX_HEADER_BYTES:
            self._refuse_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._expect_request()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._arrived()
        super().on_message_complete()

    def _expect_request(self) -> None:
        """A request is on its way: it has ``READ_TIMEOUT_S`` to arrive whole."""
        self._arrived()
        self._in_headers = True
        self._arrival = self.loop.call_later(READ_TIMEOUT_S, self._too_slow)

    def _arrived(self) -> None:
        if self._arrival is not None:
            self._arrival.cancel()
            self._arrival = None

    def _too_slow(self) -> None:
        self._arrival = None
        if not self.transport.is_closing():
            self.logger.info("Closed a connection whose request did not arrive in time")
            self.transport.close()

    def _refuse_headers(self) -> None:
        """Answer 431 with a JSON error and close."""
        if self.transport.is_closing():
            return
        error = {"code": "headers_too_large", "message": "The request's headers are too large."}
        body = json.dumps({"error": error}).encode()
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        # Closing with the rest of the headers unread would reset the connection, and the
        # client could lose the answer: read no more, and close a moment later.
        self.transport.pause_reading()
        self._arrived()
        self.loop.call_later(CLOSE_AFTER_REFUSAL_S, self.transport.close)
