"""Request bodies: the image limit everywhere, a larger one for zips of examples."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from PIL import Image

from mirada.db.app_session import db
from mirada.web import create_app
from tests.conftest import make_settings
from tests.support.projects import wait_for_jobs
from tests.support.web import WebClient

JSON = {"Accept": "application/json"}


@pytest.fixture
def small_limits_app(tmp_path: Path, database_url: str, model_path: Path) -> Iterator[Flask]:
    """An app whose image limit is 150 kB (so the request limit is about 1.2 MB)."""
    app = create_app(
        make_settings(
            tmp_path,
            database_url,
            model_path=model_path,
            max_upload_bytes=150_000,
            max_archive_upload_bytes=5_000_000,
        )
    )
    with app.app_context():
        db.create_all()
    yield app
    wait_for_jobs(app)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def noise_png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_zip_may_exceed_the_image_limit_but_a_photo_may_not(small_limits_app: Flask) -> None:
    web = WebClient(small_limits_app)
    web.register("limits@example.com")
    photos = [noise_png(seed) for seed in range(12)]
    assert all(len(p) < 150_000 for p in photos)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i, data in enumerate(photos):
            archive.writestr(f"{'ab'[i % 2]}/{i}.png", data)
    archive_bytes = buffer.getvalue()
    assert len(archive_bytes) > small_limits_app.config["MAX_CONTENT_LENGTH"]

    created = web.submit("/projects", {"name": "Noise"})
    assert created.status_code == 302
    project_page = created.headers["Location"]
    response = web.submit(
        project_page,
        {"archive": (io.BytesIO(archive_bytes), "noise.zip")},
        action=project_page + "/import",
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]

    too_big = web.submit(
        "/classify",
        {"photos": [(io.BytesIO(archive_bytes), "big.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert too_big.status_code == 413
