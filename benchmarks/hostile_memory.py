"""Memory of a real ``mirada serve`` under hostile uploads, as one JSON document.

Usage: ``python benchmarks/hostile_memory.py`` (the model from ``MIRADA_MODEL_PATH``, else
``instance/models/efficientnet-lite0.onnx``; extra ``MIRADA_*`` variables pass through to
the server, e.g. ``MIRADA_DECODE_BUDGET_MB``).

Two payloads, each on a fresh server (2 workers x 4 threads, SQLite in a temporary data
folder), first sent once and then four times at once by four signed-in clients:

- ``zip``: a zip of 14 entries of 20 MB of zeros (about 274 KB), to the import form;
- ``png``: 20 PNGs of 6300 x 6300 pixels (about 770 KB), to the Classify form.

For each run it prints the servers' resident memory before (after a warm-up
classification that loads the model), the peak (each process's ``VmHWM`` from
``/proc``; the sum over the processes), what stayed afterwards, the statuses answered
and the wall time. Memory is read from ``/proc``, so this runs on Linux.
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO_ROOT / "instance" / "models" / "efficientnet-lite0.onnx"
EMAIL = "bench@example.com"
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway account
CONCURRENCY = 4
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ZIP_ENTRIES, ZIP_ENTRY_BYTES = 14, 20_000_000
PNG_COUNT, PNG_SIDE = 20, 6300


def hostile_zip() -> bytes:
    """14 entries of 20 MB of zeros in class folders: a few hundred KB once deflated."""
    buffer = io.BytesIO()
    zeros = bytes(ZIP_ENTRY_BYTES)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(ZIP_ENTRIES):
            archive.writestr(f"zeros/{index}.png", zeros)
    return buffer.getvalue()


def large_png() -> bytes:
    """A flat 6300 x 6300 PNG: 40 KB on the wire, 40 megapixels decoded."""
    buffer = io.BytesIO()
    Image.new("RGB", (PNG_SIDE, PNG_SIDE), (90, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 100, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for field, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """A signed-in browser session over urllib (cookies kept, CSRF token read from a page)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = self._token("/auth/login")
        status, _body, _headers = self.post(
            "/auth/login", {"email": EMAIL, "password": PASSWORD}, expect_redirect=True
        )
        assert status in (200, 302), status
        self.token = self._token("/classify")

    def _token(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            match = CSRF.search(response.read().decode())
        assert match, path
        return match.group(1)

    def post(
        self,
        path: str,
        fields: dict[str, str],
        files: list[tuple[str, str, bytes]] | None = None,
        *,
        expect_redirect: bool = False,
    ) -> tuple[int, str, dict[str, str]]:
        body, content_type = multipart({"csrf_token": self.token, **fields}, files or [])
        request = urllib.request.Request(  # noqa: S310 - our own server on loopback
            self.base + path,
            data=body,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=600) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += tree(int(child))
    return found


def memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` or ``VmHWM`` of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """``mirada serve`` on a fresh data folder with one account."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.env = {**env, "MIRADA_DATA_DIR": str(folder), "MIRADA_ENV": "development"}
        self.port = free_port()
        mirada = [sys.executable, "-c", "from mirada.cli import main; main()"]
        subprocess.run([*mirada, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        subprocess.run(
            [*mirada, "users", "create", EMAIL, "--password-stdin"],
            env=self.env,
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        self.log = (folder / "serve.log").open("w")
        self.process = subprocess.Popen(
            [*mirada, "serve", "--port", str(self.port), "--workers", "2", "--threads", "4"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/auth/login", timeout=5).close()  # noqa: S310
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("mirada serve did not start")

    def workers(self) -> list[int]:
        return tree(self.process.pid)

    def memory(self, field: str) -> dict[str, float]:
        return {str(pid): round(memory_mb(pid, field), 1) for pid in self.workers()}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def warm_up(client: Client) -> None:
    """Load the model in every worker (a few small classifications)."""
    for _ in range(6):
        status, body, _ = client.post(
            "/classify", {"model": "imagenet"}, [("photos", "w.jpg", small_jpeg())]
        )
        assert status == 200, body


def send(client: Client, kind: str, payload: bytes, project_id: int | None) -> tuple[int, str]:
    if kind == "zip":
        status, _body, headers = client.post(
            f"/projects/{project_id}/import", {}, [("archive", "zeros.zip", payload)]
        )
    else:
        files = [("photos", f"{i}.png", payload) for i in range(PNG_COUNT)]
        status, _body, headers = client.post("/classify", {"model": "imagenet"}, files)
    retry = headers.get("Retry-After", "")
    return status, retry


def create_project(client: Client, name: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        client.base + "/projects",
        data=urllib.parse.urlencode({"csrf_token": client.token, "name": name}).encode(),
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(
        NoRedirect,
        *(h for h in client.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)),
    )
    try:
        opener.open(request, timeout=60)
    except urllib.error.HTTPError as error:
        location = error.headers.get("Location", "")
        match = re.search(r"/projects/(\d+)", location)
        assert match, (error.code, location)
        return int(match.group(1))
    raise AssertionError("no redirect after creating a project")


def run(kind: str, payload: bytes, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder), env)
        try:
            clients = [Client(server.base) for _ in range(CONCURRENCY)]
            for client in clients:
                warm_up(client)
            projects = [
                create_project(c, f"P{i}") if kind == "zip" else None for i, c in enumerate(clients)
            ]
            before = server.memory("VmRSS")
            started = time.perf_counter()
            single = send(clients[0], kind, payload, projects[0])
            single_s = time.perf_counter() - started
            peak_single = server.memory("VmHWM")
            after_single = server.memory("VmRSS")
            started = time.perf_counter()
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                answers = list(
                    pool.map(
                        lambda i: send(clients[i], kind, payload, projects[i]), range(CONCURRENCY)
                    )
                )
            concurrent_s = time.perf_counter() - started
            peak = server.memory("VmHWM")
            time.sleep(2)
            after = server.memory("VmRSS")
        finally:
            server.stop()
    return {
        "payload_kb": round(len(payload) / 1024, 1)
        if kind == "zip"
        else round(len(payload) * PNG_COUNT / 1024, 1),
        "rss_before_mb": before,
        "single": {
            "status": single,
            "s": round(single_s, 1),
            "peak_mb": peak_single,
            "rss_after_mb": after_single,
        },
        "four_at_once": {
            "statuses": answers,
            "s": round(concurrent_s, 1),
            "peak_mb": peak,
            "rss_after_mb": after,
        },
        "peak_sum_mb": round(sum(peak.values()), 1),
        "peak_over_before_mb": round(sum(peak.values()) - sum(before.values()), 1),
        "stayed_over_before_mb": round(sum(after.values()) - sum(before.values()), 1),
    }


def main() -> dict[str, Any]:
    model = Path(os.environ.get("MIRADA_MODEL_PATH") or DEFAULT_MODEL)
    env = {**os.environ, "MIRADA_MODEL_PATH": str(model)}
    kinds = sys.argv[1:] or ["zip", "png"]
    payloads = {"zip": hostile_zip, "png": large_png}
    return {kind: run(kind, payloads[kind](), env) for kind in kinds}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
