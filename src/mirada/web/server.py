"""The HTTP server under gunicorn: slow clients cost a socket, never a thread.

Gunicorn keeps what it is good at (processes, signals, graceful restarts,
``max_requests``); inside each worker, waitress reads every request — headers
and the whole body, spooled to a temporary file when large — in its event loop,
and hands it to a thread only once it has fully arrived. A request that dribbles
in slower than ``request_min_rate_bytes_s`` once its first ``request_read_grace_s``
seconds are over has its connection closed. A worker whose memory has grown past
``worker_max_rss_mb`` (checked as each request arrives) finishes its requests and
is replaced, like one that has served its ``max_requests``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher
from werkzeug.exceptions import HTTPException

from mirada.config import Settings
from mirada.web.body_limits import SESSION_COOKIE_NAME, body_limit

LOOP_TIMEOUT_S = 1.0  # how often the worker tells the arbiter it is alive
STOP_LINGER_S = 1.0  # a stopping worker still reads requests already on their way
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class LimitedParser(HTTPRequestParser):
    """Refuses a body larger than its route accepts as soon as the headers are in.

    The request goes to the app without its body, so that the app answers its own 413
    page (signed-in header, a way back, the user's language); the connection closes after
    that answer, and the body still arriving is dropped unread (``DeadlineChannel``).
    """

    body_refused = False
    content_length: int  # set by waitress's parser as the headers arrive

    @staticmethod
    def limit_for(method: str, path: str, signed_in: bool) -> int:
        return sys.maxsize

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        signed_in = f"{SESSION_COOKIE_NAME}=" in self.headers.get("COOKIE", "")
        if self.content_length > self.limit_for(self.command, self.path, signed_in):
            self.body_refused = True
            self.content_length = 0  # nothing more is read: the app sees CONTENT_LENGTH, 413s
            self.headers["CONNECTION"] = "close"
            self.completed = True

    def received(self, data: bytes) -> int:
        consumed = int(super().received(data))
        return len(data) if self.body_refused else consumed  # the body is not for us


def route_limits(app: Flask, settings: Settings) -> type[LimitedParser]:
    """A parser that knows each route's body limit (``web.body_limits``)."""
    adapter = app.url_map.bind("mirada")

    def limit_for(method: str, path: str, signed_in: bool) -> int:
        try:
            endpoint = adapter.match(path, method)[0]
        except HTTPException:  # no such route: the app answers; nothing to read for it
            endpoint = None
        name = endpoint if isinstance(endpoint, str) else None
        return body_limit(name, settings, signed_in=signed_in)

    return type("RouteLimitedParser", (LimitedParser,), {"limit_for": staticmethod(limit_for)})


class DeadlineChannel(HTTPChannel):
    """A connection that knows when its current request began and how much of it came."""

    request_started: float | None = None
    request_bytes = 0

    discarding = False  # a refused body is still arriving: drop it until the answer closes

    def __init__(self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> None:
        """A new connection; one past its address's share is closed unread."""
        super().__init__(server, sock, addr, adj, map)
        host = addr[0] if addr else None
        same = sum(1 for c in server.active_channels.values() if c.addr and c.addr[0] == host)
        if host is not None and same > server.max_per_address:
            self.will_close = True

    def received(self, data: bytes) -> bool:
        if self.discarding:
            return True
        if self.request is None and data:
            self.request_started, self.request_bytes = time.monotonic(), 0
        self.request_bytes += len(data)
        accepted = bool(super().received(data))
        if self.request is None:  # every request in ``data`` arrived whole
            self.request_started = None
        self.discarding = any(getattr(r, "body_refused", False) for r in self.requests)
        return accepted

    def too_slow(self, now: float, grace_s: float, min_rate: float) -> bool:
        """Whether the request being read is past its grace and below the minimum rate."""
        if self.request_started is None:
            return False
        elapsed = now - self.request_started
        return elapsed > grace_s and self.request_bytes < min_rate * elapsed


class DeadlineServer(TcpWSGIServer):
    """Waitress's server with ``DeadlineChannel`` connections, checked at each maintenance."""

    channel_class: type = DeadlineChannel
    read_grace_s = 10.0
    min_rate = 1000.0
    max_per_address = 100  # one client cannot take the whole connection table

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        monotonic = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.too_slow(monotonic, self.read_grace_s, self.min_rate):
                channel.will_close = True  # closed by the next turn of the loop


def _busy(channel: Any) -> bool:
    """Whether a connection has a request in progress (being read, run or sent)."""
    if not isinstance(channel, HTTPChannel):
        return False
    return bool(channel.requests or channel.total_outbufs_len or channel.request is not None)


def resident_bytes() -> int:
    """This process's resident memory (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


class BufferingWorker(Worker):
    """A gunicorn worker that serves with ``DeadlineServer`` on the arbiter's sockets."""

    alive: bool  # gunicorn's: cleared to finish the requests under way and exit

    def run(self) -> None:
        settings = Settings()
        self.max_rss = settings.worker_max_rss_mb * 1024 * 1024
        self._count_lock = threading.Lock()
        socket_map: dict[int, Any] = {}
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(self.cfg.threads)
        adjustments = Adjustments(
            threads=self.cfg.threads,
            connection_limit=settings.max_connections_per_worker,
            cleanup_interval=1,
            # Idle kept-alive connections, and requests that stall outright, are closed.
            channel_timeout=max(int(self.cfg.keepalive), int(settings.request_read_grace_s), 1),
            max_request_body_size=settings.max_archive_upload_bytes + 1024 * 1024,
            clear_untrusted_proxy_headers=False,  # ProxyFix (MIRADA_PROXY_COUNT) decides
            asyncore_use_poll=True,  # no select() limit on descriptors
            ident="",
        )
        servers = [
            self._server(listener.sock, socket_map, dispatcher, adjustments, settings)
            for listener in self.sockets
        ]
        while self.alive and self._parent_alive():
            self.notify()
            wasyncore.loop(timeout=LOOP_TIMEOUT_S, map=socket_map, use_poll=True, count=1)
        self._drain(servers, socket_map, dispatcher)
        # Interpreter shutdown can wait forever here on native threads (onnxruntime's pool,
        # locks copied at fork): the requests are done and the logs flushed, so leave now.
        self.log.info("Worker exiting (pid: %s)", self.pid)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)

    def _server(
        self,
        sock: Any,
        socket_map: dict[int, Any],
        dispatcher: ThreadedTaskDispatcher,
        adjustments: Adjustments,
        settings: Settings,
    ) -> DeadlineServer:
        server = DeadlineServer(
            self._counted(self.wsgi),
            socket_map,
            _sock=sock,
            dispatcher=dispatcher,
            adj=adjustments,
            bind_socket=False,
            sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
        )
        server.channel_class = type(
            "RouteLimitedChannel",
            (DeadlineChannel,),
            {"parser_class": route_limits(self.wsgi, settings)},
        )
        server.read_grace_s = settings.request_read_grace_s
        server.min_rate = settings.request_min_rate_bytes_s
        server.max_per_address = settings.max_connections_per_address
        return server

    def _counted(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """``app``, writing the access log; each request counts towards ``max_requests`` and,
        arriving at a worker grown past its memory ceiling, is its last (a worker always
        serves one: a ceiling below its size at boot cannot make it restart in a loop)."""

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            with self._count_lock:
                self.nr += 1
                if self.alive and self.nr >= self.max_requests:
                    self.log.info("Restarting worker %s after %d requests", self.pid, self.nr)
                    self.alive = False
                elif self.alive and self.max_rss and resident_bytes() > self.max_rss:
                    self.log.info(
                        "Restarting worker %s: memory above %d bytes", self.pid, self.max_rss
                    )
                    self.alive = False
            started = time.monotonic()

            def logged_start_response(status: str, headers: Any, *args: Any) -> Any:
                self.log.access_log.info(
                    '%s "%s %s" %s %.3f',
                    environ.get("REMOTE_ADDR", "-"),
                    environ["REQUEST_METHOD"],
                    environ.get("PATH_INFO", ""),
                    status.split(" ", 1)[0],
                    time.monotonic() - started,
                )
                return start_response(status, headers, *args)

            return app(environ, logged_start_response)

        return counted

    def _parent_alive(self) -> bool:
        """False once the arbiter is gone (this worker then stops too)."""
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            return False
        return True

    def _drain(
        self,
        servers: list[DeadlineServer],
        socket_map: dict[int, Any],
        dispatcher: ThreadedTaskDispatcher,
    ) -> None:
        """Stop accepting, let requests in progress finish (up to graceful_timeout), then stop."""
        for server in servers:
            server.accepting = False
        started = time.monotonic()
        deadline = started + self.cfg.graceful_timeout
        # Connections accepted just before: their request may not be read yet.
        while time.monotonic() < started + STOP_LINGER_S or (
            time.monotonic() < deadline and any(_busy(c) for c in socket_map.values())
        ):
            self.notify()
            wasyncore.loop(timeout=0.2, map=socket_map, use_poll=True, count=1)
        dispatcher.shutdown(cancel_pending=True, timeout=1)
        wasyncore.close_all(socket_map)
