"""How long ``/healthz`` takes to answer while slow clients dribble request bodies.

Starts ``mirada serve`` (2 workers x 4 threads, SQLite), opens N connections that
each announce a 100 000-byte ``POST /auth/login`` body and send one byte per
second, then times five ``/healthz`` requests (30 s timeout each). Prints JSON.

    PYTHONPATH=. python benchmarks/slow_clients.py [N ...]      (default: 10 50)
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.support.server import get, mirada_serve, run_mirada, server_env

SLOW_BODY = (
    b"POST /auth/login HTTP/1.1\r\nHost: mirada\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
)


def dribble(port: int, stop: threading.Event) -> None:
    """One byte a second until the server hangs up or the run ends."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        try:
            sock.sendall(SLOW_BODY)
            while not stop.wait(1.0):
                sock.sendall(b"a")
        except OSError:
            return


def timed_healthz(port: int) -> tuple[int | str, float]:
    started = time.monotonic()
    try:
        status: int | str = get(port, "/healthz", timeout=30).status
    except OSError as error:
        status = type(error).__name__
    return status, round(time.monotonic() - started, 3)


def run(slow_clients: int) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp()) / "data"
    env = server_env(data_dir, f"sqlite:///{data_dir / 'mirada.sqlite3'}")
    run_mirada(env, "db", "upgrade")
    stop = threading.Event()
    with mirada_serve(env, "--workers", "2", "--threads", "4") as server:
        for _ in range(slow_clients):
            threading.Thread(target=dribble, args=(server.port, stop), daemon=True).start()
        time.sleep(3)
        answers = [timed_healthz(server.port) for _ in range(5)]
        stop.set()
    return {"slow_clients": slow_clients, "healthz_status_and_seconds": answers}


if __name__ == "__main__":
    counts = [int(arg) for arg in sys.argv[1:]] or [10, 50]
    print(json.dumps([run(count) for count in counts], indent=2))
