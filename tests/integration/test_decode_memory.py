"""Decoding memory is bounded across requests: large JPEGs, large PNGs, hostile zips, crowds."""

from __future__ import annotations

import io
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from skimage import data
from sqlalchemy import update

from mirada.db import Example, Job, Project
from mirada.db.app_session import db
from mirada.services import jobs
from mirada.vision.budget import DecodeBudget
from mirada.vision.intake import read_header
from tests.integration.helpers import count, text
from tests.support.images import encode
from tests.support.projects import JSON, Browser, wait_for_jobs
from tests.support.web import WebClient, csrf_token_in

MP48 = (8000, 6000)


@pytest.fixture(scope="module")
def photo_48mp() -> bytes:
    """Chelsea the cat upscaled to 8000 x 6000 (48 MP), as a phone would shoot it."""
    return encode(Image.fromarray(data.chelsea()).resize(MP48), quality=85)


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app, "crowd@example.com")


def classify(web: WebClient, files: list[tuple[bytes, str]], headers: dict[str, str] | None = None):
    page = web.get("/classify").get_data(as_text=True)
    return web.client.post(
        "/classify",
        data={
            "csrf_token": csrf_token_in(page),
            "model": "imagenet",
            "photos": [(io.BytesIO(d), n) for d, n in files],
        },
        content_type="multipart/form-data",
        headers=headers or {},
    )


def budget_of(app: Flask) -> DecodeBudget:
    return app.extensions["mirada.decode_budget"]


def small_budget(app: Flask, capacity: int, wait_s: float) -> DecodeBudget:
    """Give the app a budget of ``capacity`` bytes and requests a wait of ``wait_s``."""
    budget = DecodeBudget(capacity)
    app.extensions["mirada.decode_budget"] = budget
    app.extensions["mirada.settings"].decode_wait_s = wait_s
    return budget


def temp_files(app: Flask) -> list[Path]:
    root = app.extensions["mirada.settings"].resolved_data_dir / "tmp"
    return list(root.rglob("*")) if root.exists() else []


def test_a_48_megapixel_jpeg_is_classified_at_a_reduced_scale(app, browser, photo_48mp) -> None:
    response = classify(browser.web, [(photo_48mp, "phone.jpg")], headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.json["results"]
    assert result["predictions"][0]["label"]
    budget = budget_of(app)
    assert budget.used == 0
    # What it held: the 1000 x 750 reduced image, not the 48 MP original.
    assert 0 < budget.peak <= 1000 * 750 * 8


def test_a_48_megapixel_png_is_refused_with_the_way_to_make_it_acceptable(app, browser) -> None:
    flat = encode(Image.new("RGB", MP48, (90, 120, 200)), "PNG")
    response = classify(browser.web, [(flat, "scan.png")], headers=JSON)
    assert response.status_code == 413
    error = response.json["error"]
    assert error["code"] == "too_many_pixels"
    assert "Export it as JPEG (up to 120 megapixels)" in error["message"]
    assert "scale it down to at most 40 megapixels" in error["message"]
    assert budget_of(app).peak == 0  # refused from its header, never decoded
    page = classify(browser.web, [(flat, "scan.png")])
    assert page.status_code == 413
    assert "Export it as JPEG" in text(page)


def test_the_jpeg_limit_names_its_own_size(app, browser) -> None:
    settings = app.extensions["mirada.settings"]
    settings.max_jpeg_pixels = 40_000_000
    response = classify(
        browser.web, [(encode(Image.new("RGB", MP48), quality=50), "big.jpg")], headers=JSON
    )
    assert response.status_code == 413
    assert "Scale it down to at most 40 megapixels" in response.json["error"]["message"]


def test_a_progressive_jpeg_costs_its_coefficients() -> None:
    image = Image.fromarray(data.chelsea()).resize(MP48)
    baseline = read_header(
        encode(image, quality=85), max_bytes=10**8, max_pixels=40_000_000, max_jpeg_pixels=10**8
    )
    progressive = read_header(
        encode(image, quality=85, progressive=True),
        max_bytes=10**8,
        max_pixels=40_000_000,
        max_jpeg_pixels=10**8,
    )
    assert baseline.image.size == progressive.image.size == (1000, 750)
    assert progressive.cost - baseline.cost == 8000 * 6000 * 1.5 * 2  # 4:2:0, 2 bytes a sample


def zeros_zip(entries: int = 14, size: int = 20_000_000) -> bytes:
    """The hostile zip of the issue: entries of 20 MB of zeros, a few hundred KB in all."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(entries):
            archive.writestr(f"zeros/{index}.png", bytes(size))
    return buffer.getvalue()


def test_a_zip_of_zero_filled_entries_is_refused_cleanly(app, browser) -> None:
    project_id = browser.create_project("Zeros")
    archive = zeros_zip()
    assert len(archive) < 400_000
    response = browser.import_zip(project_id, archive, headers=JSON)
    assert response.status_code == 415
    body = response.json
    assert body["added"] == 0
    assert {r["error"]["code"] for r in body["results"]} == {"unsupported_format"}
    assert len(body["results"]) == 14
    assert temp_files(app) == []
    assert budget_of(app).peak == 0
    assert count(app, Example) == 0


def test_a_refused_archive_leaves_no_temporary_files(app, browser, photo_48mp) -> None:
    project_id = browser.create_project("Lies")
    app.extensions["mirada.settings"].max_archive_bytes = len(photo_48mp) + 10
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cats/a.jpg", photo_48mp)
        archive.writestr("cats/b.jpg", photo_48mp + b"x")
    response = browser.import_zip(project_id, buffer.getvalue(), headers=JSON)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "archive_too_large"
    assert temp_files(app) == []
    assert count(app, Example) == 0


def large_photo() -> bytes:
    """A real photo at 1000 x 1000 as PNG: 8 MB of budget once decoded."""
    return encode(Image.fromarray(data.astronaut()).resize((1000, 1000)), "PNG")


def test_crowded_requests_get_503_with_retry_after_and_nothing_stored(app, browser) -> None:
    budget = small_budget(app, 10_000_000, wait_s=0.2)
    budget.acquire(budget.capacity, timeout=0)  # another request holds all of it
    photo = large_photo()
    clients = [browser.web] + [Browser(app, f"crowd{i}@example.com").web for i in range(3)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda web: classify(web, [(photo, "a.png"), (photo, "b.png")], JSON), clients)
        )
    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert {r["error"]["code"] for r in answer.json["results"]} == {"busy"}
    page = classify(browser.web, [(photo, "c.png")])
    assert page.status_code == 503
    assert "The server is busy reading other photos" in text(page)
    assert page.headers["Retry-After"] == "1"
    budget.release(budget.capacity)
    assert budget.used == 0


def test_four_requests_at_once_share_the_budget_and_never_exceed_it(app, browser) -> None:
    budget = small_budget(app, 10_000_000, wait_s=120)
    photo = large_photo()
    cost = read_header(photo, max_bytes=10**8, max_pixels=10**8).cost
    assert budget.capacity < 2 * cost  # one photo at a time, process-wide
    clients = [browser.web] + [Browser(app, f"crowd{i}@example.com").web for i in range(3)]
    files = [(photo, f"{i}.png") for i in range(3)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda web: classify(web, files, JSON), clients))
    assert [a.status_code for a in answers] == [200] * 4
    assert budget.peak <= budget.capacity
    assert budget.used == 0


def test_uploads_to_a_project_are_refused_as_busy_and_the_rest_not_read(app, browser) -> None:
    budget = small_budget(app, 10_000_000, wait_s=0.2)
    project_id = browser.create_project("Busy")
    cls = browser.add_class(project_id, "astronaut")
    budget.acquire(budget.capacity, timeout=0)
    photo = large_photo()
    response = browser.upload(project_id, cls, [(photo, "a.png"), (photo[:50], "b.png")], JSON)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert [r["error"]["code"] for r in response.json["results"]] == ["busy", "busy"]
    budget.release(budget.capacity)
    again = browser.upload(project_id, cls, [(photo, "a.png")], JSON)
    assert again.status_code == 200
    wait_for_jobs(app)
    assert count(app, Example) == 1


def test_an_embedding_job_waits_for_the_budget_instead_of_failing(app, browser) -> None:
    budget = small_budget(app, 10_000_000, wait_s=0.2)
    project_id = browser.create_project("Patient")
    cls = browser.add_class(project_id, "astronaut")
    assert browser.upload(project_id, cls, [(large_photo(), "a.png")], JSON).status_code == 200
    wait_for_jobs(app)
    with app.app_context():
        db.session.execute(update(Example).values(embedding_backbone=None, embedding=None))
        db.session.commit()
        project = db.session.get(Project, project_id)
        job_id = jobs.create_job(session=db.session(), project=project, kind="embed").id
        db.session.commit()
    budget.acquire(budget.capacity, timeout=0)  # requests hold it all

    def run() -> None:
        app.extensions["mirada.worker"].run(job_id)

    worker = threading.Thread(target=run)
    worker.start()
    while not budget.waiting:  # the job queued for the budget; it did not fail
        worker.join(0.05)
        assert worker.is_alive()
    budget.release(budget.capacity)
    worker.join()
    with app.app_context():
        assert db.session.get(Job, job_id).state == "succeeded"
    assert count(app, Example, Example.embedding_backbone.is_not(None)) == 1


def test_copies_of_a_stored_photo_are_refused_before_they_are_decoded(app, browser) -> None:
    """A photo the project holds is refused from its bytes' hash, never decoded. (The attack
    behind it: copies sent in parallel requests were each decoded, then refused at commit.)"""
    project_id = browser.create_project("Copies")
    cls = browser.add_class(project_id, "astronaut")
    photo = large_photo()
    assert browser.upload(project_id, cls, [(photo, "first.png")], JSON).status_code == 200
    wait_for_jobs(app)  # its embedding decodes it too
    budget = small_budget(app, 10**9, wait_s=5)

    again = browser.upload(project_id, cls, [(photo, f"copy{i}.png") for i in range(5)], JSON)

    assert [r["error"]["code"] for r in again.json["results"]] == ["duplicate"] * 5
    assert budget.peak == 0  # not one copy was decoded
    wait_for_jobs(app)
    assert count(app, Example) == 1
