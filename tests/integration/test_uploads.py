"""Adding photos: many at once, per-user limits at the edge, what arrived with an upload id,
and the sweep of files no row owns. On SQLite and PostgreSQL, with the real blob store."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from PIL import Image
from sqlalchemy import select, update

from mirada.cli import main
from mirada.db import Classification, Example, User
from mirada.db.app_session import db
from mirada.services.orphans import sweep_orphans
from mirada.storage import blob_store_from
from mirada.web import create_app
from tests.conftest import make_settings
from tests.integration.helpers import count, text
from tests.support.projects import JSON, Browser, wait_for_jobs

IMAGE_LIMIT = 150_000  # bytes per photo: the plain request limit is about 1.2 MB


@pytest.fixture
def app(tmp_path: Path, database_url: str, model_path: Path) -> Iterator[Flask]:
    """An app with a small image limit (so a few photos exceed the plain request limit)."""
    app = create_app(
        make_settings(tmp_path, database_url, model_path=model_path, max_upload_bytes=IMAGE_LIMIT)
    )
    with app.app_context():
        db.create_all()
    yield app
    wait_for_jobs(app)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app, "uploader@example.com")


def noise_png(seed: int, side: int = 200) -> bytes:
    """A photo-sized PNG that does not compress (about 120 kB at 200 x 200)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def files(seeds: range) -> list[tuple[bytes, str]]:
    return [(noise_png(seed), f"photo-{seed}.png") for seed in seeds]


def blob_files(app: Flask) -> set[Path]:
    root = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    return {path for path in root.rglob("*") if path.is_file()}


def user_id(app: Flask, email: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == email))
        assert found is not None
        return found


def set_limits(app: Flask, uid: int, *, photos: int | None = None, size: int | None = None) -> None:
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == uid).values(photo_limit=photos, storage_limit_bytes=size)
        )
        db.session.commit()


@pytest.fixture
def project(browser: Browser) -> tuple[int, int]:
    """A project and one class of it."""
    project_id = browser.create_project("Noise")
    return project_id, browser.add_class(project_id, "static")


# Many photos at once (7.1)


def test_a_form_sent_without_javascript_may_hold_many_photos(
    app: Flask, browser: Browser, project: tuple[int, int]
) -> None:
    project_id, class_id = project
    photos = files(range(12))
    assert sum(len(data) for data, _ in photos) > app.config["MAX_CONTENT_LENGTH"]
    response = browser.upload(project_id, class_id, photos)
    assert response.status_code == 200, text(response)[:500]
    assert "12 photos added to static." in text(response)
    assert count(app, Example, Example.class_id == class_id) == 12


# Limits per user (8.6)


def test_an_upload_that_would_cross_the_photo_limit_is_refused_whole(
    app: Flask, browser: Browser, project: tuple[int, int]
) -> None:
    project_id, class_id = project
    set_limits(app, user_id(app, "uploader@example.com"), photos=5)
    assert browser.upload(project_id, class_id, files(range(3)), headers=JSON).status_code == 200
    stored = blob_files(app)

    refused = browser.upload(project_id, class_id, files(range(3, 6)), headers=JSON)
    assert refused.status_code == 413
    assert refused.json["error"]["code"] == "photo_limit"
    assert "limit of 5 photos" in refused.json["error"]["message"]
    assert count(app, Example) == 3
    assert blob_files(app) == stored  # nothing half-written

    exactly = browser.upload(project_id, class_id, files(range(3, 5)), headers=JSON)
    assert exactly.status_code == 200 and exactly.json["added"] == 2
    assert count(app, Example) == 5
    one_more = browser.upload(project_id, class_id, files(range(5, 6)), headers=JSON)
    assert one_more.status_code == 413


def test_an_upload_that_would_cross_the_storage_limit_is_refused_whole(
    app: Flask, browser: Browser, project: tuple[int, int]
) -> None:
    project_id, class_id = project
    first, batch = files(range(2)), files(range(2, 5))
    assert browser.upload(project_id, class_id, first, headers=JSON).status_code == 200
    used = sum(len(data) for data, _ in first)
    with app.app_context():
        recorded = db.session.scalars(select(Example.size_bytes)).all()
    assert sorted(recorded) == sorted(len(data) for data, _ in first)
    # Room for two of the three photos of the batch, to the byte.
    room = sum(len(data) for data, _ in batch[:2])
    set_limits(app, user_id(app, "uploader@example.com"), size=used + room)
    stored = blob_files(app)

    page = browser.upload(project_id, class_id, batch)
    assert page.status_code == 413
    assert "storage limit" in text(page) and "Nothing was added" in text(page)
    assert count(app, Example) == 2
    assert blob_files(app) == stored

    fits = browser.upload(project_id, class_id, batch[:2], headers=JSON)
    assert fits.status_code == 200 and fits.json["added"] == 2
    account = text(browser.get("/account/"))
    megabytes = f"{(used + room) / 1e6:,.1f}"
    assert f"{megabytes} of {megabytes} MB used by your photos." in account
    assert "4 of 100,000 photos" in account


def test_classify_counts_against_the_same_limits(app: Flask, browser: Browser) -> None:
    uid = user_id(app, "uploader@example.com")
    set_limits(app, uid, photos=1)
    photo = io.BytesIO(noise_png(1))
    first = browser.post(
        "/classify",
        {"photos": [(photo, "a.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert first.status_code == 200, first.get_data(as_text=True)[:300]
    second = browser.post(
        "/classify",
        {"photos": [(io.BytesIO(noise_png(2)), "b.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert second.status_code == 413
    assert second.json["error"]["code"] == "photo_limit"
    assert count(app, Classification) == 1


def test_an_administrator_sets_and_clears_a_users_limits(app: Flask, browser: Browser) -> None:
    admin = Browser(app, "root@example.com")
    with app.app_context():
        db.session.execute(
            update(User).where(User.email == "root@example.com").values(is_admin=True)
        )
        db.session.commit()
    uid = user_id(app, "uploader@example.com")
    saved = admin.post(
        f"/admin/users/{uid}/limits", {"photo_limit": "250", "storage_limit_mb": "40"}
    )
    assert saved.status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert user is not None
        assert (user.photo_limit, user.storage_limit_bytes) == (250, 40_000_000)
    listing = text(admin.get("/admin/users"))
    assert "0 of 250 photos" in listing and "0 of 40 MB" in listing

    refused = admin.post(f"/admin/users/{uid}/limits", {"photo_limit": "0"}, follow_redirects=True)
    assert refused.status_code == 200
    assert "Enter a whole number of at least 1" in text(refused)
    cleared = admin.post(f"/admin/users/{uid}/limits", {"photo_limit": "", "storage_limit_mb": ""})
    assert cleared.status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert user is not None
        assert (user.photo_limit, user.storage_limit_bytes) == (None, None)
    assert browser.post(f"/admin/users/{uid}/limits", {"photo_limit": "9"}).status_code == 403


# What arrived with an upload id (8.10)


def test_the_page_can_ask_what_arrived_with_an_upload_id(
    app: Flask, browser: Browser, project: tuple[int, int]
) -> None:
    project_id, class_id = project
    upload_id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    sent = browser.post(
        f"/projects/{project_id}/examples",
        {
            "class_id": str(class_id),
            "upload_id": upload_id,
            "photos": [(io.BytesIO(d), n) for d, n in files(range(2))],
        },
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert sent.status_code == 200
    browser.upload(project_id, class_id, files(range(2, 3)), headers=JSON)  # no id

    outcome = browser.get(f"/projects/{project_id}/uploads?upload_id={upload_id}")
    assert outcome.status_code == 200
    assert outcome.headers["Cache-Control"] == "no-store"
    assert [e["filename"] for e in outcome.json["examples"]] == ["photo-0.png", "photo-1.png"]
    assert all(e["class_id"] == class_id for e in outcome.json["examples"])
    nothing = browser.get(f"/projects/{project_id}/uploads?upload_id=never-sent-0001")
    assert nothing.status_code == 200 and nothing.json["examples"] == []

    bad = browser.get(f"/projects/{project_id}/uploads?upload_id=../x", headers=JSON)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "upload_id_invalid"
    missing = browser.get(f"/projects/{project_id}/uploads", headers=JSON)
    assert missing.status_code == 400
    stranger = Browser(app, "stranger@example.com")
    foreign = stranger.get(f"/projects/{project_id}/uploads?upload_id={upload_id}", headers=JSON)
    assert foreign.status_code == 404


# The sweep of files no row owns (8.10)


def age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_the_sweep_removes_only_old_files_that_no_row_owns(
    app: Flask, browser: Browser, project: tuple[int, int]
) -> None:
    project_id, class_id = project
    assert browser.upload(project_id, class_id, files(range(2)), headers=JSON).status_code == 200
    owned = blob_files(app)
    assert len(owned) == 4  # two photos, two thumbnails
    folder = next(iter(owned)).parent
    old_orphan, new_orphan, old_partial = (
        folder / "0123456789abcdef0123456789abcdef",
        folder / "fedcba9876543210fedcba9876543210",
        folder / ".tmp-killed",
    )
    for path in (old_orphan, new_orphan, old_partial):
        path.write_bytes(b"left by a killed worker")
    for path in (*owned, old_orphan, old_partial):
        age(path, 48)

    with app.app_context():
        blobs = blob_store_from(app.extensions["mirada.settings"])
        dry = sweep_orphans(
            session=db.session(), blobs=blobs, grace=timedelta(hours=24), dry_run=True
        )
        assert len(dry.deleted) == 1 and old_orphan.exists()
        result = sweep_orphans(session=db.session(), blobs=blobs, grace=timedelta(hours=24))
    assert result.deleted == [old_orphan.relative_to(folder.parents[4]).as_posix()]
    assert result.partial == 1
    assert blob_files(app) == owned | {new_orphan}
    with app.app_context():  # every row still has its files
        keys = db.session.execute(select(Example.image_key, Example.thumbnail_key)).all()
    assert {folder.parents[4] / key for row in keys for key in row} == owned

    age(new_orphan, 48)
    runner = CliRunner()
    cli = runner.invoke(
        main, ["storage", "sweep", "--grace-s", "3600"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert cli.exit_code == 0, cli.output
    assert "Deleted 1 unowned file(s)" in cli.output
    assert blob_files(app) == owned


# Error pages


def test_a_body_over_the_limit_keeps_the_signed_in_header_and_a_way_back(
    app: Flask, browser: Browser
) -> None:
    too_big = io.BytesIO(b"x" * (IMAGE_LIMIT + 2 * 1024 * 1024))
    response = browser.post(
        "/classify",
        {"photos": [(too_big, "big.jpg")]},
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/classify?model=imagenet"},
    )
    assert response.status_code == 413
    page = text(response)
    assert "Sign out" in page and "Create account" not in page
    assert 'href="/classify?model=imagenet" id="error-back"' in page
    assert "Go to the start page" in page


def test_a_missing_page_offers_the_way_back_to_its_area(app: Flask, browser: Browser) -> None:
    page = text(browser.get("/projects/987654"))
    assert 'href="/projects" id="error-back"' in page and "Sign out" in page
    foreign = text(browser.get("/nowhere", headers={"Referer": "https://evil.example/x"}))
    assert 'id="error-back"' not in foreign and "Go to the start page" in foreign
