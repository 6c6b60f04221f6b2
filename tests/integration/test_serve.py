"""``mirada serve`` on real sockets: slow clients cost a socket, never a thread, and are
dropped; workers are recycled; a stop lets requests in progress finish.

The slow clients send bodies at a few bytes per second and dribble headers
slowloris-style, while ``/healthz`` keeps answering.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import (
    free_port,
    get,
    mirada_command,
    mirada_serve,
    run_mirada,
    server_env,
)

SLOW_BODIES = 30
SLOW_HEADERS = 20
GRACE_S = 3  # the server's read grace in these tests
GIVE_UP_S = 60.0  # a dribbler still connected after this long was never dropped
SLOW_BODY = (
    b"POST /auth/login HTTP/1.1\r\nHost: mirada\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
)
SLOW_HEADER = b"GET / HTTP/1.1\r\nHost: mirada\r\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A server environment on a migrated SQLite database, with a short read grace."""
    data_dir = tmp_path / "data"
    env = server_env(
        data_dir,
        f"sqlite:///{data_dir / 'mirada.sqlite3'}",
        MIRADA_REQUEST_READ_GRACE_S=str(GRACE_S),
    )
    run_mirada(env, "db", "upgrade")
    return env


@pytest.fixture
def port(env: dict[str, str]) -> Iterator[int]:
    with mirada_serve(env, "--workers", "2", "--threads", "2") as server:
        yield server.port


class Dribbler(threading.Thread):
    """Sends ``opening``, then one byte every half second until the server hangs up."""

    def __init__(self, port: int, opening: bytes, byte: bytes) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.opening, self.byte = opening, byte
        self.dropped = threading.Event()
        self.answer = b""

    def run(self) -> None:
        deadline = time.monotonic() + GIVE_UP_S
        try:
            self.sock.sendall(self.opening)
            while time.monotonic() < deadline:
                self.sock.sendall(self.byte)
                readable, _, _ = select.select([self.sock], [], [], 0.5)
                if readable:
                    self.answer = self.sock.recv(4096)  # b"" (closed) or a 408
                    self.dropped.set()
                    return
        except OSError:  # reset or broken pipe: dropped as well
            self.dropped.set()
        finally:
            self.sock.close()


def test_slow_bodies_and_dribbled_headers_do_not_stall_the_server(port: int) -> None:
    dribblers = [Dribbler(port, SLOW_BODY, b"a") for _ in range(SLOW_BODIES)]
    dribblers += [Dribbler(port, SLOW_HEADER, b"X") for _ in range(SLOW_HEADERS)]
    for dribbler in dribblers:
        dribbler.start()

    # While every slow client is connected and sending, the server answers others at once
    # (10 s is the ordinary HTTP timeout here; the old server timed out for 30 s).
    for _ in range(2 * GRACE_S):
        assert get(port, "/healthz", timeout=10).status == 200
        assert get(port, "/", timeout=10).status == 200
        time.sleep(0.5)

    for dribbler in dribblers:
        dribbler.join(GIVE_UP_S + 5)
    assert all(d.dropped.is_set() for d in dribblers), "some slow clients were never dropped"
    assert all(d.answer == b"" for d in dribblers)
    assert get(port, "/healthz", timeout=10).status == 200


def test_a_body_larger_than_its_route_accepts_is_refused_before_it_is_sent(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /classify HTTP/1.1\r\nHost: mirada\r\nContent-Type: multipart/form-data\r\n"
            b"Cookie: mirada_session=stale\r\n"
            b"Content-Length: 50000000\r\n\r\n"  # and not one byte of the 50 MB
        )
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 413 ")
    # The app's own page answers (a way back, the user's language), not the server's text.
    assert b"text/html" in answer.split(b"\r\n\r\n", 1)[0]
    assert b"Too large" in answer


def test_a_refused_body_still_arriving_is_dropped_after_the_answer(port: int) -> None:
    """The body that follows a refusal is not read as further requests."""
    body = b"GET /healthz HTTP/1.1\r\nHost: mirada\r\n\r\n" * 3  # would be 3 requests
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /classify HTTP/1.1\r\nHost: mirada\r\nContent-Type: multipart/form-data\r\n"
            b"Content-Length: 50000000\r\n\r\n" + body
        )
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.count(b"HTTP/1.1 ") == 1  # one answer, then the connection closed


def test_a_zip_of_examples_may_be_larger_than_a_photo(port: int) -> None:
    body = b"x" * 30_000_000  # above the photo limit, below the archive limit
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /projects/1/import HTTP/1.1\r\nHost: mirada\r\nConnection: close\r\n"
            b"Cookie: mirada_session=stale\r\n"
            b"Content-Type: application/octet-stream\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 400 ")  # the app read it all: no CSRF token, not a 413


def test_a_worker_is_replaced_after_its_max_requests(env: dict[str, str]) -> None:
    with mirada_serve(env, "--workers", "2", "--threads", "2", "--max-requests", "5") as server:
        # The other worker answers while one is replaced (a new one takes seconds to boot).
        statuses = [get(server.port, "/healthz", timeout=30).status for _ in range(24)]
        log = server.log.read_text()
    assert statuses == [200] * 24
    assert log.count("after 5 requests") >= 2


def test_a_worker_grown_past_its_memory_ceiling_is_replaced(env: dict[str, str]) -> None:
    env = {**env, "MIRADA_WORKER_MAX_RSS_MB": "1"}  # every worker is above it once booted
    with mirada_serve(env, "--workers", "2", "--threads", "2") as server:
        statuses = [get(server.port, "/healthz", timeout=30).status for _ in range(6)]
        log = server.log.read_text()
    assert statuses == [200] * 6
    assert log.count("memory above 1048576 bytes") >= 2


def test_a_request_arriving_when_the_server_stops_still_gets_its_answer(
    env: dict[str, str],
) -> None:
    with mirada_serve(env, "--workers", "1", "--threads", "2") as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: mirada\r\n")  # half a request
        time.sleep(1)  # the worker has read it
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1)  # the worker is stopping, its request still unfinished
        sock.sendall(b"Connection: close\r\n\r\n")
        answer = sock.makefile("rb").read()
        sock.close()
        assert server.process.wait(timeout=30) == 0
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.endswith(b'{"status":"ok"}\n')


def test_a_stranger_cannot_send_a_large_body_at_all(port: int) -> None:
    """The attack: anonymous 190 MiB bodies to an upload route were spooled to disk whole
    before the app said 413; without a session, only a form's worth is accepted."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /projects/1/import HTTP/1.1\r\nHost: mirada\r\n"
            b"Content-Type: application/zip\r\nContent-Length: 199229440\r\n\r\n"
        )
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_one_address_cannot_take_every_connection(env: dict[str, str]) -> None:
    """The attack: 2100 connections from one address, each sending just fast enough, filled
    the connection table and every /healthz timed out. One address now gets its share."""
    env = {**env, "MIRADA_MAX_CONNECTIONS_PER_ADDRESS": "10", "MIRADA_REQUEST_READ_GRACE_S": "60"}
    with mirada_serve(env, "--workers", "1", "--threads", "2") as server:
        flood = []
        for _ in range(30):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(SLOW_HEADER)  # a request begun, never finished
            flood.append(sock)
        try:
            deadline = time.monotonic() + 5
            closed: set[int] = set()
            while time.monotonic() < deadline and len(closed) < 20:
                ready, _, _ = select.select(
                    [s for s in flood if s.fileno() not in closed], [], [], 0.5
                )
                closed.update(s.fileno() for s in ready if hung_up(s))
            other = socket.create_connection(
                ("127.0.0.1", server.port), source_address=("127.0.0.2", 0)
            )
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: mirada\r\nConnection: close\r\n\r\n")
            answer = other.makefile("rb").read()
            other.close()
        finally:
            for sock in flood:
                sock.close()
    assert len(closed) == 20  # the ten within the share stay open, the rest are closed
    assert answer.startswith(b"HTTP/1.1 200 ")  # another address is served meanwhile


def hung_up(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (a reset counts: it closed with our bytes unread)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_production_without_a_public_address_refuses_to_start(tmp_path: Path) -> None:
    """Once, with the reason, instead of workers that fail to boot over and over."""
    database = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    env = {**server_env(tmp_path / "data", database), "MIRADA_ENV": "production"}
    result = subprocess.run(
        mirada_command("serve", "--port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "MIRADA_BASE_URL" in result.stderr and "MIRADA_TRUSTED_HOSTS" in result.stderr
    assert env["MIRADA_SECRET_KEY"] not in result.stderr
