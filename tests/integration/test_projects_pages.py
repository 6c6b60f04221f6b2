"""The project pages with the real model, blob store and background jobs: from a new project
to a trained, served, compared and exported version."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from mirada.db import Example, Job, ModelVersion, Project, ProjectClass, User
from mirada.db.app_session import db
from mirada.db.base import utcnow
from mirada.jobs.reaper import Reaper
from tests.integration.helpers import count, errors_of, flashes_of, text
from tests.support.images import encode
from tests.support.projects import (
    JSON,
    Browser,
    digit_pngs,
    project_row,
    wait_for_jobs,
)


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app, "teacher@example.com")


def named(photos: list[bytes], stem: str) -> list[tuple[bytes, str]]:
    return [(data, f"{stem}-{i}.png") for i, data in enumerate(photos)]


def example_ids(app: Flask, class_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Example.id).where(Example.class_id == class_id).order_by(Example.id)
            )
        )


def class_names(app: Flask, project_id: int) -> list[str]:
    with app.app_context():
        return sorted(
            db.session.scalars(
                select(ProjectClass.name).where(ProjectClass.project_id == project_id)
            )
        )


# The list of projects


def test_project_pages_need_sign_in(client) -> None:
    for path in ("/projects", "/projects/1", "/projects/1/classes/1", "/projects/1/versions/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


def test_create_a_project_and_see_it_listed(app, browser) -> None:
    assert "You have no projects yet." in text(browser.get("/projects"))
    project_id = browser.create_project("Garden birds", "Who visits the feeder")
    page = text(browser.get(f"/projects/{project_id}"))
    assert "<h1>Garden birds</h1>" in page
    assert "Who visits the feeder" in page
    assert "Add at least two classes to train." in page
    browser.add_class(project_id, "Robin")
    listing = text(browser.get("/projects"))
    assert "Garden birds" in listing
    assert "1 class · 0 examples" in listing
    assert "Not trained yet" in listing
    assert 'href="/projects"' in text(browser.get("/classify"))  # in the navigation


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("", 422, "Enter a name."),
        ("   ", 422, "Enter a name."),
        ("x" * 101, 422, "at most 100 characters"),
        ("a/b", 422, "cannot contain slashes"),
        ("garden BIRDS", 409, "already have a project with this name"),
    ],
)
def test_bad_project_names_are_refused(app, browser, name, status, message) -> None:
    browser.create_project("Garden birds")
    response = browser.post("/projects", {"name": name})
    assert response.status_code == status
    assert any(message in error for error in errors_of(response, "name"))
    assert count(app, Project) == 1


def test_bad_project_name_in_json(app, browser) -> None:
    response = browser.post("/projects", {"name": ""}, headers=JSON)
    assert response.status_code == 422
    assert response.json["error"]["message"] == "Enter a name."


def test_bad_class_names_are_refused(app, browser) -> None:
    project_id = browser.create_project("Birds")
    browser.add_class(project_id, "Robin")
    duplicate = browser.post(f"/projects/{project_id}/classes", {"class-name": " ROBIN "})
    assert duplicate.status_code == 409
    assert "already has a class with this name" in " ".join(errors_of(duplicate, "class-name"))
    empty = browser.post(f"/projects/{project_id}/classes", {"class-name": ""})
    assert empty.status_code == 422
    assert class_names(app, project_id) == ["Robin"]


# Uploads


def test_upload_keeps_good_photos_and_names_each_refused_one(app, browser) -> None:
    project_id = browser.create_project("Digits")
    threes = browser.add_class(project_id, "three")
    good = named(digit_pngs(3, 3), "three")
    truncated = digit_pngs(4, 1)[0][:120]
    response = browser.upload(
        project_id,
        threes,
        [*good, (b"just text, no photo\n" * 10, "notes.jpg"), (truncated, "cut.png")],
    )
    assert response.status_code == 200
    page = text(response)
    assert "3 photos added to three." in page
    assert "notes.jpg</span>: This file type is not supported" in page
    assert re.search(r"cut.png</span>: The image file is (incomplete|damaged)", page)
    assert count(app, Example, Example.class_id == threes) == 3
    thumb = browser.get(f"/projects/{project_id}").get_data(as_text=True)
    assert thumb.count(f'src="/projects/{project_id}/examples/') == 3
    wait_for_jobs(app)


def test_upload_json_and_its_refusals(app, browser) -> None:
    project_id = browser.create_project("Digits")
    threes = browser.add_class(project_id, "three")
    response = browser.upload(
        project_id, threes, [*named(digit_pngs(3, 2), "t"), (b"", "empty.png")], headers=JSON
    )
    assert response.status_code == 200
    body = response.json
    assert body["added"] == 2
    assert [r.get("error", {}).get("code") for r in body["results"]] == [None, None, "empty"]
    assert body["job"]["kind"] == "embed"
    thumbnail = browser.get(body["results"][0]["example"]["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.content_type == "image/jpeg"
    only_bad = browser.upload(project_id, threes, [(b"nope", "bad.jpg")], headers=JSON)
    assert only_bad.status_code == 415
    assert only_bad.json["results"][0]["error"]["code"] == "unsupported_format"
    wait_for_jobs(app)


def test_upload_needs_a_class_of_this_project_and_files(app, browser) -> None:
    project_id = browser.create_project("Digits")
    threes = browser.add_class(project_id, "three")
    other_project = browser.create_project("Other")
    other_class = browser.add_class(other_project, "elsewhere")
    photo = named(digit_pngs(3, 1), "t")
    assert browser.upload(project_id, other_class, photo).status_code == 404
    assert browser.upload(project_id, 2**70, photo).status_code == 404
    no_files = browser.upload(project_id, threes, [])
    assert no_files.status_code == 400
    assert "Choose at least one photo." in text(no_files)
    response = browser.post(
        f"/projects/{project_id}/examples",
        {"photos": [(io.BytesIO(photo[0][0]), "t.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "class_required"
    assert count(app, Example) == 0


def test_examples_are_served_to_their_owner(app, browser) -> None:
    project_id = browser.create_project("Digits")
    threes = browser.add_class(project_id, "three")
    photo = digit_pngs(3, 1)[0]
    browser.upload(project_id, threes, [(photo, "t.png")])
    (example_id,) = example_ids(app, threes)
    image = browser.get(f"/projects/{project_id}/examples/{example_id}/image")
    assert image.status_code == 200
    assert image.data == photo
    assert image.content_type == "image/png"
    thumbnail = browser.get(f"/projects/{project_id}/examples/{example_id}/thumbnail")
    assert Image.open(io.BytesIO(thumbnail.data)).format == "JPEG"
    # Never kept by the browser: after signing out or deleting, no copy is left in its cache.
    assert image.headers["Cache-Control"] == thumbnail.headers["Cache-Control"]
    assert image.headers["Cache-Control"] == "private, no-store"
    assert browser.get(f"/projects/{project_id}/examples/{example_id}/other").status_code == 404
    assert browser.get(f"/projects/{project_id}/examples/{example_id + 1}/image").status_code == 404
    wait_for_jobs(app)


# Training rules


def test_training_is_blocked_with_a_message_naming_the_problem(app, browser) -> None:
    project_id = browser.create_project("Digits")
    zeros = browser.add_class(project_id, "zero")
    browser.upload(project_id, zeros, named(digit_pngs(0, 5), "zero"))

    only_one = browser.post(f"/projects/{project_id}/train")
    assert only_one.status_code == 400
    assert "Add at least two classes to train." in text(only_one)

    ones = browser.add_class(project_id, "one")
    page = text(browser.get(f"/projects/{project_id}"))
    assert "Add more to: one." in page
    assert re.search(r'<button type="submit" class="button" disabled[^>]*>Train</button>', page)
    empty = browser.post(f"/projects/{project_id}/train")
    assert empty.status_code == 400
    assert "Each class needs at least 5 examples to train. Add more to: one." in text(empty)

    same = digit_pngs(1, 1)[0]
    response = browser.upload(project_id, ones, [(same, f"same-{i}.png") for i in range(5)])
    assert response.status_code == 200
    page = text(response)
    assert "1 photo added to one." in page
    assert page.count("This photo is already in the project, in the class one.") == 4
    assert count(app, Example, Example.class_id == ones) == 1

    blocked = browser.post(f"/projects/{project_id}/train", headers=JSON)
    assert blocked.status_code == 400
    assert blocked.json["error"]["code"] == "training_blocked"
    assert "Add more to: one." in blocked.json["error"]["message"]
    assert count(app, Job, Job.kind == "train") == 0
    wait_for_jobs(app)


# Training, versions, comparing, exporting


def onnx_probabilities(bundle: bytes, photo: bytes) -> np.ndarray:
    """Run the exported model on one photo, as its README says."""
    import onnxruntime as ort

    from mirada.vision.preprocess import preprocess_batch

    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        model = archive.read("model.onnx")
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    batch = preprocess_batch([Image.open(io.BytesIO(photo)).convert("RGB")])
    return session.run(["probabilities"], {"image": batch})[0]


def test_train_serve_compare_delete_and_export(app, browser) -> None:
    project_id = browser.create_project("Digits")
    zeros = browser.add_class(project_id, "zero")
    ones = browser.add_class(project_id, "one")
    browser.upload(project_id, zeros, named(digit_pngs(0, 6), "zero"))
    browser.upload(project_id, ones, named(digit_pngs(1, 6), "one"))
    # A one filed under zero: the evaluation should catch it as a mistake.
    browser.upload(project_id, zeros, [(digit_pngs(1, 1, skip=40)[0], "mislabelled.png")])
    mislabelled = max(example_ids(app, zeros))

    pressed = browser.post(f"/projects/{project_id}/train")
    assert pressed.status_code == 302
    location = re.fullmatch(
        rf"/projects/{project_id}\?job=(\d+)#training", pressed.headers["Location"]
    )
    assert location
    shown = text(browser.get(pressed.headers["Location"]))
    job_url = f"/projects/{project_id}/jobs/{location.group(1)}"
    assert f'data-job-url="{job_url}"' in shown
    assert re.search(r"<progress class=\"job-progress\"|Done: version 1 is ready and now", shown)

    job = browser.follow({"state": "queued", "url": job_url})
    assert job["state"] == "succeeded", job
    assert job["kind"] == "train"
    assert job["progress"] == 1.0
    assert job["error"] is None
    first = job["version"]
    assert job["version_url"] == f"/projects/{project_id}/versions/{first}"

    version_page = browser.get(job["version_url"])
    assert version_page.status_code == 200
    page = text(version_page)
    assert re.search(r'<dd class="metric-accuracy">\d{1,3}\.\d%</dd>', page)
    assert "cross-validation" in page
    assert "Fewer than 20 examples in: one, zero." in page
    mistakes = page[page.index('id="mistakes-title"') :]
    thumbnail = f'src="/projects/{project_id}/examples/{mislabelled}/thumbnail"'
    assert thumbnail in mistakes
    assert "zero → one" in mistakes
    picture = browser.get(f"/projects/{project_id}/versions/{first}/confusion.png")
    assert picture.status_code == 200
    assert picture.content_type == "image/png"
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "PNG"
        assert image.width > 100 and image.height > 100

    listing = text(browser.get("/projects"))
    assert re.search(rf"Version {first} in use \(accuracy \d{{1,3}}\.\d%\)", listing)

    sevens = browser.add_class(project_id, "seven")
    browser.upload(project_id, sevens, named(digit_pngs(7, 6), "seven"))
    second = browser.train(project_id)["version"]
    assert second == first + 1
    assert project_row(app, project_id).serving_version_id is not None

    compare = browser.get(f"/projects/{project_id}/compare?a={first}&b={second}")
    assert compare.status_code == 200
    page = text(compare)
    assert f"Version {first} and version {second}" in page
    assert re.search(r"<th scope=\"row\">seven</th>\s*<td>—</td>\s*<td>\d\.\d\d</td>", page)
    assert browser.get(f"/projects/{project_id}/compare?a={first}").status_code == 400
    assert browser.get(f"/projects/{project_id}/compare?a=x&b=1").status_code == 400
    assert browser.get(f"/projects/{project_id}/compare?a={first}&b=99").status_code == 404

    tiles = text(browser.get(f"/projects/{project_id}/versions/{first}")).count("mistake-text")
    browser.post(
        f"/projects/{project_id}/classes/{zeros}/examples",
        {"action": "delete", "example_ids": [str(mislabelled)]},
    )
    page = text(browser.get(f"/projects/{project_id}/versions/{first}"))
    assert f"/examples/{mislabelled}/" not in page  # deleted since: skipped
    assert page.count("mistake-text") == tiles - 1
    if tiles == 1:
        assert "The misclassified examples have since been deleted." in page

    served = browser.post(f"/projects/{project_id}/versions/{second}/serve")
    assert served.status_code == 302
    with app.app_context():
        serving = db.session.get(Project, project_id).serving_version
        assert serving.number == second
    refused = browser.post(f"/projects/{project_id}/versions/{second}/delete")
    assert refused.status_code == 409
    assert "This version is in use." in text(refused)
    refused = browser.post(f"/projects/{project_id}/versions/{second}/delete", headers=JSON)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "version_serving"
    assert count(app, ModelVersion) == 2
    deleted = browser.post(f"/projects/{project_id}/versions/{first}/delete")
    assert deleted.status_code == 302
    assert count(app, ModelVersion) == 1
    assert browser.get(f"/projects/{project_id}/versions/{first}").status_code == 404

    export = browser.get(f"/projects/{project_id}/versions/{second}/export")
    assert export.status_code == 200
    assert export.content_type == "application/zip"
    assert export.headers["Content-Disposition"] == f'attachment; filename="Digits-v{second}.zip"'
    with zipfile.ZipFile(io.BytesIO(export.data)) as bundle:
        assert {"model.onnx", "model.json"} <= set(bundle.namelist())
        described = json.loads(bundle.read("model.json"))
    assert described["classes"] == ["one", "seven", "zero"]
    probabilities = onnx_probabilities(export.data, digit_pngs(7, 1, skip=20)[0])
    assert probabilities.shape == (1, 3)
    assert abs(float(probabilities.sum()) - 1.0) < 1e-4

    # Predictions made with the project: the least confident come first, to be labelled.
    classify = browser.post(
        "/classify",
        {
            "model": str(project_id),
            "photos": [
                (io.BytesIO(digit_pngs(0, 1, skip=30)[0]), "fresh-zero.png"),
                (io.BytesIO(encode(np.full((64, 64, 3), 128, np.uint8), "PNG")), "grey.png"),
            ],
        },
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert classify.status_code == 200, classify.get_data(as_text=True)
    results = classify.json["results"]
    assert all(r["project_id"] == project_id for r in results)
    page = text(browser.get(f"/projects/{project_id}"))
    assert "Label these first" in page
    listed = re.findall(r'src="/media/classifications/(\d+)/thumbnail"', page)
    by_score = sorted(results, key=lambda r: r["predictions"][0]["score"])
    assert [int(i) for i in listed] == [r["id"] for r in by_score]
    assert "fresh-zero.png" in page and "grey.png" in page
    wait_for_jobs(app)


def test_the_job_answer_reports_a_dead_worker(app, browser) -> None:
    project_id = browser.create_project("Digits")
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
        job = Job(
            user_id=user_id,
            project_id=project_id,
            kind="train",
            state="running",
            progress=0.3,
            stage="embedding",
            started_at=utcnow() - timedelta(hours=1),
            heartbeat_at=utcnow() - timedelta(hours=1),
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    reaper = Reaper(app.extensions["mirada.worker"].reap, interval_s=0.05)  # soon, not in 60 s
    reaper.start()
    try:
        deadline = time.monotonic() + 10
        while True:  # no page reaps: the periodic check does
            response = browser.get(f"/projects/{project_id}/jobs/{job_id}", headers=JSON)
            assert response.status_code == 200
            answer = response.json["job"]
            if answer["state"] != "running" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        reaper.stop()
    assert answer["state"] == "failed"
    assert answer["error"]["code"] == "worker_lost"
    assert "stopped before it finished" in answer["error"]["message"]
    assert "stopped before it finished" in text(browser.get(f"/projects/{project_id}"))
    assert browser.get(f"/projects/{project_id}/jobs/{job_id + 1}").status_code == 404


# A class and its examples


def test_rename_move_delete_and_merge_update_the_counts(app, browser) -> None:
    project_id = browser.create_project("Digits")
    twos = browser.add_class(project_id, "two")
    fives = browser.add_class(project_id, "five")
    nines = browser.add_class(project_id, "nine")
    browser.upload(project_id, twos, named(digit_pngs(2, 3), "two"))
    browser.upload(project_id, fives, named(digit_pngs(5, 2), "five"))
    browser.upload(project_id, nines, named(digit_pngs(9, 1), "nine"))
    base = f"/projects/{project_id}/classes"

    page = browser.get(f"{base}/{twos}")
    assert page.get_data(as_text=True).count('class="example-tile"') == 3

    renamed = browser.post(f"{base}/{twos}/rename", {"rename-name": "deuce"})
    assert renamed.status_code == 302
    assert class_names(app, project_id) == ["deuce", "five", "nine"]
    clash = browser.post(f"{base}/{twos}/rename", {"rename-name": "FIVE"})
    assert clash.status_code == 409
    assert "already has a class with this name" in " ".join(errors_of(clash, "rename-name"))
    assert browser.post(f"{base}/{twos}/rename", {"rename-name": " "}).status_code == 422

    chosen = example_ids(app, twos)[:2]
    moved = browser.post(
        f"{base}/{twos}/examples",
        {"action": "move", "target_id": str(fives), "example_ids": [str(i) for i in chosen]},
    )
    assert moved.status_code == 302
    assert flashes_of(browser.get(moved.headers["Location"])) == ["2 photos moved to five."]
    assert count(app, Example, Example.class_id == twos) == 1
    assert count(app, Example, Example.class_id == fives) == 4

    nothing = browser.post(f"{base}/{fives}/examples", {"action": "delete"})
    assert nothing.status_code == 400
    assert "Select at least one photo." in text(nothing)
    foreign = browser.post(
        f"{base}/{fives}/examples", {"action": "delete", "example_ids": ["999999"]}
    )
    assert foreign.status_code == 404
    assert count(app, Example, Example.class_id == fives) == 4

    doomed = example_ids(app, fives)[0]
    deleted = browser.post(
        f"{base}/{fives}/examples", {"action": "delete", "example_ids": [str(doomed)]}
    )
    assert deleted.status_code == 302
    assert count(app, Example, Example.class_id == fives) == 3
    assert browser.get(f"/projects/{project_id}/examples/{doomed}/image").status_code == 404

    assert browser.post(f"{base}/{nines}/merge", {"target_id": str(nines)}).status_code == 400
    merged = browser.post(f"{base}/{nines}/merge", {"target_id": str(fives)})
    assert merged.status_code == 302
    assert merged.headers["Location"] == f"{base}/{fives}"
    assert class_names(app, project_id) == ["deuce", "five"]
    assert count(app, Example, Example.class_id == fives) == 4

    gone = browser.post(f"{base}/{twos}/delete")
    assert gone.status_code == 302
    assert class_names(app, project_id) == ["five"]
    assert count(app, Example) == 4
    assert browser.get(f"{base}/{twos}").status_code == 404
    page = text(browser.get(f"/projects/{project_id}"))
    assert "1 class · 4 examples" in page
    wait_for_jobs(app)


def test_a_class_page_shows_sixty_photos_then_more(app, browser) -> None:
    project_id = browser.create_project("Digits")
    sixes = browser.add_class(project_id, "six")
    response = browser.upload(project_id, sixes, named(digit_pngs(6, 61), "six"))
    assert "61 photos added to six." in text(response)
    first = browser.get(f"/projects/{project_id}/classes/{sixes}").get_data(as_text=True)
    assert first.count('class="example-tile"') == 60
    more = re.search(r'href="([^"]+after=\d+)" rel="next"', first)
    assert more
    second = browser.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="example-tile"') == 1
    assert "six-60.png" in second
    assert 'rel="next"' not in second
    assert browser.get(f"/projects/{project_id}/classes/{sixes}?after=abc").status_code == 200
    wait_for_jobs(app)


# Settings and deletion


@pytest.mark.parametrize(
    "threshold", ["1.5", "-0.1", "abc", "nan", "inf", "", "0,9", "1,000", "0_1"]
)
def test_threshold_must_be_a_number_from_0_to_1(app, browser, threshold) -> None:
    project_id = browser.create_project("Digits")
    response = browser.post(
        f"/projects/{project_id}/settings",
        {"settings-name": "Digits", "settings-description": "", "settings-threshold": threshold},
    )
    assert response.status_code == 422
    assert errors_of(response, "settings-threshold") == [
        "The threshold must be a number from 0 to 1."
    ]
    assert project_row(app, project_id).threshold == 0.5


def test_settings_are_saved(app, browser) -> None:
    project_id = browser.create_project("Digits")
    browser.create_project("Letters")
    saved = browser.post(
        f"/projects/{project_id}/settings",
        {
            "settings-name": "Handwritten digits",
            "settings-description": "Scanned",
            "settings-threshold": "0.75",
        },
    )
    assert saved.status_code == 302
    project = project_row(app, project_id)
    assert (project.name, project.description, project.threshold) == (
        "Handwritten digits",
        "Scanned",
        0.75,
    )
    assert 'value="0.75"' in browser.get(f"/projects/{project_id}").get_data(as_text=True)
    clash = browser.post(
        f"/projects/{project_id}/settings",
        {"settings-name": "letters", "settings-threshold": "0.5"},
    )
    assert clash.status_code == 409
    assert project_row(app, project_id).name == "Handwritten digits"


@pytest.mark.parametrize("typed", ["0,9", "0.9", " 0,90 "])
def test_a_spanish_page_takes_a_decimal_comma_or_point(app, browser, typed) -> None:
    project_id = browser.create_project("Dígitos")
    assert browser.post("/language", {"locale": "es", "next": "/"}).status_code == 302
    saved = browser.post(
        f"/projects/{project_id}/settings",
        {"settings-name": "Dígitos", "settings-threshold": typed},
    )
    assert saved.status_code == 302, text(saved)
    assert project_row(app, project_id).threshold == 0.9
    page = browser.get(f"/projects/{project_id}").get_data(as_text=True)
    assert '<html lang="es">' in page
    field = re.search(r'<input[^>]*name="settings-threshold"[^>]*>', page)
    assert field is not None
    assert 'value="0,9"' in field.group(0)
    assert 'inputmode="decimal"' in field.group(0)
    assert 'type="number"' not in field.group(0)


def test_deleting_a_project_deletes_its_classes_examples_and_files(app, browser) -> None:
    project_id = browser.create_project("Digits")
    fours = browser.add_class(project_id, "four")
    browser.upload(project_id, fours, named(digit_pngs(4, 2), "four"))
    wait_for_jobs(app)
    blobs = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    assert [p for p in blobs.rglob("*") if p.is_file()]
    response = browser.post(f"/projects/{project_id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects"
    assert count(app, Project) == 0
    assert count(app, ProjectClass) == 0
    assert count(app, Example) == 0
    assert [p for p in blobs.rglob("*") if p.is_file()] == []
    assert browser.get(f"/projects/{project_id}").status_code == 404
