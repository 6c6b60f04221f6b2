"""Helpers for the project tests: real digit photos, zips, and a browser that uses the pages."""

from __future__ import annotations

import io
import re
import time
import zipfile
from functools import cache
from typing import Any

import numpy as np
from flask import Flask
from PIL import Image
from sklearn.datasets import load_digits
from sqlalchemy import select
from werkzeug.test import TestResponse

from mirada.db import Job, Project, ProjectClass
from mirada.db.app_session import db
from tests.support.web import WebClient, csrf_token_in

JSON = {"Accept": "application/json"}
JOB_TIMEOUT_S = 60.0


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    return digits.images, digits.target


def digit_png(index: int) -> bytes:
    """Scan number ``index`` of scikit-learn's digits, as a 64 x 64 RGB PNG."""
    images, _ = _digits()
    pixels = (images[index] * (255 / 16)).astype(np.uint8)
    image = Image.fromarray(pixels).resize((64, 64), Image.Resampling.BILINEAR).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def digit_pngs(digit: int, count: int, skip: int = 0) -> list[bytes]:
    """``count`` different scans of ``digit`` (after skipping ``skip`` of them)."""
    _, targets = _digits()
    indices = np.flatnonzero(targets == digit)[skip : skip + count]
    assert len(indices) == count
    return [digit_png(int(i)) for i in indices]


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip archive holding ``files`` (path -> bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def wait_for_jobs(app: Flask, timeout: float = JOB_TIMEOUT_S) -> None:
    """Until no job is queued or running (the background threads must be idle at teardown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            active = db.session.scalar(
                select(Job.id).where(Job.state.in_(("queued", "running"))).limit(1)
            )
            db.session.remove()
        if active is None:
            return
        time.sleep(0.2)
    raise AssertionError("background jobs did not finish in time")


def class_id(app: Flask, project_id: int, name: str) -> int:
    """The id of the project's class called ``name``."""
    with app.app_context():
        found = db.session.scalar(
            select(ProjectClass.id).where(
                ProjectClass.project_id == project_id, ProjectClass.name == name
            )
        )
        assert found is not None, name
        return found


class Browser:
    """A signed-in browser on the project pages; it keeps the CSRF token of its session."""

    def __init__(self, app: Flask, email: str) -> None:
        self.app = app
        self.web = WebClient(app)
        assert self.web.register(email).status_code == 302
        self.token = csrf_token_in(self.web.get("/projects").get_data(as_text=True))

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.web.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        body = {"csrf_token": self.token, **(data or {})}
        return self.web.client.post(path, data=body, **kwargs)

    def create_project(self, name: str, description: str = "") -> int:
        response = self.post("/projects", {"name": name, "description": description})
        assert response.status_code == 302, response.get_data(as_text=True)
        match = re.fullmatch(r"/projects/(\d+)", response.headers["Location"])
        assert match, response.headers["Location"]
        return int(match.group(1))

    def add_class(self, project_id: int, name: str) -> int:
        response = self.post(f"/projects/{project_id}/classes", {"class-name": name})
        assert response.status_code == 302, response.get_data(as_text=True)
        return class_id(self.app, project_id, name)

    def digits_project(self, name: str, classes: dict[int, str], per_class: int) -> int:
        """A new project with a class per digit in ``classes`` (digit -> class name), each
        given ``per_class`` scans of that digit; its id."""
        project_id = self.create_project(name)
        for digit, class_name in classes.items():
            cls = self.add_class(project_id, class_name)
            scans = [(d, f"{i}.png") for i, d in enumerate(digit_pngs(digit, per_class))]
            self.upload(project_id, cls, scans)
        return project_id

    def upload(
        self,
        project_id: int,
        class_id: int,
        files: list[tuple[bytes, str]],
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        return self.post(
            f"/projects/{project_id}/examples",
            {"class_id": str(class_id), "photos": [(io.BytesIO(d), n) for d, n in files]},
            content_type="multipart/form-data",
            headers=headers or {},
        )

    def import_zip(self, project_id: int, data: bytes, name: str = "photos.zip", **kw: Any):
        return self.post(
            f"/projects/{project_id}/import",
            {"archive": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
            **kw,
        )

    def train(self, project_id: int) -> dict[str, Any]:
        """Press Train (as a script does), then follow the job until it ends."""
        response = self.post(f"/projects/{project_id}/train", headers=JSON)
        assert response.status_code == 202, response.get_data(as_text=True)
        return self.follow(response.json["job"])

    def follow(self, job: dict[str, Any]) -> dict[str, Any]:
        """Poll the job's address as the page's script does, until the job ends."""
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while job["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the job did not finish in time"
            time.sleep(0.2)
            polled = self.get(job["url"], headers=JSON)
            assert polled.status_code == 200
            job = polled.json["job"]
        return job


def project_row(app: Flask, project_id: int) -> Project:
    """The stored project, detached."""
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project is not None
        db.session.expunge(project)
        return project
