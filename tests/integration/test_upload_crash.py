"""A web worker killed (SIGKILL) during parallel uploads, against a real ``mirada serve``.

What each client's upload kept stays knowable through its upload id, and after
``mirada storage sweep`` every stored file has its row and every row its files.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.support.server import mirada_serve, run_mirada, server_env, wait_until_alive

CLIENTS = 8
PHOTOS_PER_CLIENT = 40
PASSWORD = "correct horse battery"


def noise_png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    for name, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="{name}"'
            "\r\nContent-Type: image/png\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """A signed-in browser made of urllib: cookies, the CSRF token, JSON answers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def get(self, path: str) -> tuple[int, str]:
        headers = {"Accept": "application/json"}
        request = urllib.request.Request(self.url + path, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def page_token(self, path: str) -> None:
        with self.opener.open(self.url + path, timeout=60) as response:
            page = response.read().decode()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, path
        self.token = match.group(1)

    def post(
        self, path: str, fields: dict[str, str], files: list[tuple[str, bytes]] | None = None
    ) -> tuple[int, str, str]:
        body, content_type = multipart({"csrf_token": self.token, **fields}, files or [])
        request = urllib.request.Request(  # noqa: S310 - the test's own server on loopback
            self.url + path,
            data=body,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()


@dataclass
class Outcome:
    """What one client's upload got back: an answer, or the connection dropped."""

    upload_id: str
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    dropped: str = ""


@pytest.fixture
def server(tmp_path: Path, model_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``mirada serve`` with one worker, on a SQLite file built by the migrations."""
    data_dir = tmp_path / "data"
    env = server_env(
        data_dir,
        f"sqlite:///{data_dir / 'mirada.sqlite3'}",
        MIRADA_MODEL_PATH=str(model_path),
    )
    run_mirada(env, "db", "upgrade")
    run_mirada(
        env, "users", "create", "crash@example.com", "--password-stdin", stdin=PASSWORD + "\n"
    )
    with mirada_serve(env, "--workers", "1", "--threads", "8") as served:
        yield f"http://127.0.0.1:{served.port}", served.process, data_dir


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def stored_files(data_dir: Path) -> set[str]:
    root = data_dir / "blobs"
    return {p.relative_to(root).as_posix() for p in root.glob("users/**/*") if p.is_file()}


def row_keys(data_dir: Path) -> set[str]:
    script = (
        "import sqlite3, sys, json; c = sqlite3.connect(sys.argv[1]); print(json.dumps("
        "[k for row in c.execute('SELECT image_key, thumbnail_key FROM examples') for k in row]))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(data_dir / "mirada.sqlite3")],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(found.stdout))


def test_a_killed_worker_leaves_knowable_outcomes_and_no_unowned_files(
    server: tuple[str, subprocess.Popen[bytes], Path], model_path: Path
) -> None:
    url, process, data_dir = server
    owner = Client(url)
    owner.page_token("/auth/login")
    status, _, _ = owner.post("/auth/login", {"email": "crash@example.com", "password": PASSWORD})
    assert status == 200  # followed the redirect to the start page
    owner.page_token("/projects")
    status, location, _ = owner.post("/projects", {"name": "Crash"})
    project = re.search(r"/projects/(\d+)", location)
    assert status == 200 and project, location
    project_id = int(project.group(1))
    status, _, _ = owner.post(f"/projects/{project_id}/classes", {"class-name": "noise"})
    assert status == 200
    _, page = owner.get(f"/projects/{project_id}")
    class_id = re.search(r'<option value="(\d+)">noise</option>', page)
    assert class_id

    outcomes = [Outcome(upload_id=f"client{n}-{uuid.uuid4().hex}") for n in range(CLIENTS)]
    batches = [
        [(f"c{n}-{i}.png", noise_png(n * 1000 + i)) for i in range(PHOTOS_PER_CLIENT)]
        for n in range(CLIENTS)
    ]

    def send(outcome: Outcome, batch: list[tuple[str, bytes]]) -> None:
        fields = {"class_id": class_id.group(1), "upload_id": outcome.upload_id}
        try:
            status, _, body = owner.post(f"/projects/{project_id}/examples", fields, batch)
            outcome.status, outcome.body = status, json.loads(body)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            outcome.dropped = repr(error)  # the kill may cut any answer, a refusal's too

    threads = [
        threading.Thread(target=send, args=(o, b)) for o, b in zip(outcomes, batches, strict=True)
    ]
    for thread in threads:
        thread.start()
    # Kill the worker once some photos have arrived: the uploads are under way.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        arrived = len(row_keys(data_dir))
        if arrived >= 2 * 10:  # ten photos, each with its thumbnail
            break
        time.sleep(0.05)
    os.kill(worker_pid(process.pid), signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=120)
    dropped = [o for o in outcomes if o.dropped]
    assert dropped, "the kill came after every upload had finished"

    # Gunicorn starts another worker; the page asks what arrived for each upload id.
    port = int(url.rsplit(":", 1)[1])
    wait_until_alive(port, process, data_dir / f"serve-{port}.log")
    reported: set[int] = set()
    for outcome in outcomes:
        status, body = owner.get(f"/projects/{project_id}/uploads?upload_id={outcome.upload_id}")
        assert status == 200, body
        kept = {e["id"] for e in json.loads(body)["examples"]}
        if outcome.status == 200:  # the answer and the outcome agree
            answered = {r["example"]["id"] for r in outcome.body["results"] if "example" in r}
            assert kept == answered
        reported |= kept
    rows = row_keys(data_dir)
    assert len(reported) * 2 == len(rows)  # every kept photo is reported to its client

    # Files written before the kill but never committed: the sweep removes them.
    orphans_before = {k for k in stored_files(data_dir) - rows if "/.tmp-" not in k}
    env = server_env(data_dir, f"sqlite:///{data_dir / 'mirada.sqlite3'}")
    swept = run_mirada(env, "storage", "sweep", "--grace-s", "0")
    assert set(swept.split()) == orphans_before
    assert stored_files(data_dir) == row_keys(data_dir)  # files have rows, rows have files
    print(  # the figures of the run, for the report
        f"dropped clients: {len(dropped)}/{CLIENTS}, kept photos: {len(reported)}, "
        f"orphan files swept: {len(orphans_before)}"
    )
