"""A real ``mirada serve`` process for tests that need real sockets."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mirada_command(*args: str) -> list[str]:
    """The ``mirada`` console script of the virtual environment running the tests."""
    script = Path(sys.executable).with_name("mirada")
    assert script.exists(), f"no mirada executable next to {sys.executable}"
    return [str(script), *args]


def server_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a test server: its own data folder and database, no stray MIRADA_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MIRADA_")}
    env.update(
        MIRADA_ENV="development",
        MIRADA_SECRET_KEY=secrets.token_hex(32),
        MIRADA_DATA_DIR=str(data_dir),
        MIRADA_DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    if "MIRADA_MODEL_PATH" in os.environ:
        env.setdefault("MIRADA_MODEL_PATH", os.environ["MIRADA_MODEL_PATH"])
    return env


def run_mirada(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run a ``mirada`` command to completion (``db upgrade``, ``users create``); its output."""
    result = subprocess.run(
        mirada_command(*args),
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"mirada {args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def get(port: int, path: str, timeout: float = 10.0, **headers: str) -> http.client.HTTPResponse:
    """One GET on a fresh connection; the response is read before it is returned."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@dataclass(frozen=True)
class Served:
    """A running ``mirada serve``: its port, its process (the gunicorn arbiter) and its log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def mirada_serve(env: dict[str, str], *args: str) -> Iterator[Served]:
    """``mirada serve`` on a free port until the block ends (then SIGTERM)."""
    port = free_port()
    log = Path(env["MIRADA_DATA_DIR"]) / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            mirada_command("serve", "--host", "127.0.0.1", "--port", str(port), *args),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_alive(port, process, log)
        yield Served(port, process, log)
    finally:
        terminate(process)


def terminate(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_until_alive(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server on ``port`` answers /healthz (a test failure if it dies or never does)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if get(port, "/healthz", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"mirada serve did not come up:\n{log.read_text(errors='replace')}")
