"""Which version answers after a training, pinning one, and versions scored on the same
examples: through the pages, with the real model, blob store and background jobs."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from mirada.db import Example, Project
from mirada.db.app_session import db
from mirada.inference import InProcessInference
from tests.integration.helpers import flashes_of, text
from tests.support.projects import JSON, Browser, digit_pngs, project_row, wait_for_jobs


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app, "teacher@example.com")


def upload(browser: Browser, project_id: int, class_id: int, digit: int, count: int, skip: int):
    photos = [(d, f"{digit}-{skip + i}.png") for i, d in enumerate(digit_pngs(digit, count, skip))]
    response = browser.upload(project_id, class_id, photos)
    assert response.status_code == 200, response.get_data(as_text=True)


def serving(app: Flask, project_id: int) -> tuple[int | None, bool]:
    """The number of the version that answers, and whether it is pinned."""
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project is not None
        version = project.serving_version
        return (version.number if version else None, project.serving_pinned_at is not None)


def serving_reason(browser: Browser, project_id: int) -> str:
    page = text(browser.get(f"/projects/{project_id}"))
    match = re.search(r'<p id="serving-reason">(.*?)</p>', page, re.S)
    assert match, "the project page does not say which version answers"
    return match.group(1)


def class_example_ids(app: Flask, class_id: int) -> list[str]:
    with app.app_context():
        ids = db.session.scalars(select(Example.id).where(Example.class_id == class_id))
        return [str(i) for i in ids]


def test_the_newest_version_answers_unless_one_is_pinned(app: Flask, browser: Browser) -> None:
    project_id = browser.create_project("Digits")
    zeros = browser.add_class(project_id, "zero")
    ones = browser.add_class(project_id, "one")
    upload(browser, project_id, zeros, 0, 6, 0)
    upload(browser, project_id, ones, 1, 6, 0)

    first = browser.train(project_id)
    assert first["status"] == "Done: version 1 is ready and now answers new photos."
    assert serving(app, project_id) == (1, False)
    assert serving_reason(browser, project_id).startswith(
        "Version 1 answers new photos because it is the newest"
    )

    sevens = browser.add_class(project_id, "seven")
    upload(browser, project_id, sevens, 7, 6, 0)
    second = browser.train(project_id)
    assert second["status"].startswith("Done: version 2 is ready and now answers new photos.")
    assert serving(app, project_id) == (2, False)
    page = text(browser.get(f"/projects/{project_id}"))
    assert "Serving, newest" in page
    assert "Version 2 answers new photos because it is the newest" in page

    pinned = browser.post(f"/projects/{project_id}/versions/1/serve")
    assert pinned.status_code == 302
    assert serving(app, project_id) == (1, True)
    page = browser.get(pinned.headers["Location"])
    assert flashes_of(page) == [
        "Version 1 now answers new photos, also after the next trainings, until you choose "
        "otherwise."
    ]
    reason = serving_reason(browser, project_id)
    assert reason.startswith("Version 1 answers new photos because you pinned it on ")
    assert "Serving, pinned" in text(page)
    # The last training's message no longer claims that version 2 answers.
    statuses = re.findall(r'class="job-status"[^>]*>(.*?)</p>', text(page), re.S)
    assert statuses == ["Done: version 2 is ready."]

    upload(browser, project_id, sevens, 7, 2, 6)
    third = browser.train(project_id)
    assert third["status"].startswith(
        "Done: version 3 is ready. Version 1 still answers new photos because you pinned it."
    )
    assert serving(app, project_id) == (1, True)
    classified = browser.post(
        "/classify",
        {"model": str(project_id), "photos": [(io.BytesIO(digit_pngs(7, 1, 30)[0]), "7.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert classified.status_code == 200, classified.get_data(as_text=True)
    labels = {p["label"] for p in classified.json["results"][0]["predictions"]}
    assert labels == {"zero", "one"}  # version 1 answers: it knows no sevens

    unpinned = browser.post(f"/projects/{project_id}/serving/newest")
    assert unpinned.status_code == 302
    assert serving(app, project_id) == (3, False)
    assert flashes_of(browser.get(unpinned.headers["Location"])) == [
        "Version 3, the newest, now answers new photos, and each new version will as soon as "
        "it is trained."
    ]
    upload(browser, project_id, sevens, 7, 2, 8)
    assert browser.train(project_id)["status"].startswith("Done: version 4 is ready and now")
    assert serving(app, project_id) == (4, False)
    wait_for_jobs(app)


def test_a_worse_new_version_is_flagged_and_compared_on_the_same_examples(
    app: Flask, browser: Browser
) -> None:
    project_id = browser.create_project("Digits")
    zeros = browser.add_class(project_id, "zero")
    ones = browser.add_class(project_id, "one")
    upload(browser, project_id, zeros, 0, 10, 0)
    upload(browser, project_id, ones, 1, 10, 0)
    first = browser.train(project_id)
    assert first["state"] == "succeeded", first

    # Wrong "corrections": every photo goes to the other class; then ten new, right ones.
    old_zeros, old_ones = class_example_ids(app, zeros), class_example_ids(app, ones)
    for source, target, ids in ((zeros, ones, old_zeros), (ones, zeros, old_ones)):
        moved = browser.post(
            f"/projects/{project_id}/classes/{source}/examples",
            {"action": "move", "target_id": str(target), "example_ids": ids},
        )
        assert moved.status_code == 302
    upload(browser, project_id, zeros, 0, 5, 10)
    upload(browser, project_id, ones, 1, 5, 10)

    second = browser.train(project_id)
    assert second["state"] == "succeeded", second
    status = second["status"]
    assert status.startswith("Done: version 2 is ready and now answers new photos.")
    match = re.search(
        r"On the same 10 examples, which neither version trained on, version 2 scores "
        r"(\d+\.\d)% and version 1 (\d+\.\d)%\.",
        status,
    )
    assert match, status
    newer, older = float(match.group(1)), float(match.group(2))
    assert newer < older
    assert "Version 2 does worse than version 1 on the same examples." in status
    # The rule: the newest answers even so (it holds the user's latest labels); the
    # warning says how to keep the previous one.
    assert serving(app, project_id) == (2, False)

    version_page = text(browser.get(f"/projects/{project_id}/versions/2"))
    assert 'id="serving-comparison"' in version_page
    assert "This version does worse than the one that was answering" in version_page

    compare = text(browser.get(f"/projects/{project_id}/compare?a=1&b=2"))
    assert 'id="evaluations-differ"' in compare
    assert "5-fold cross-validation: each of the 20 examples" in compare
    assert "5-fold cross-validation: each of the 30 examples" in compare
    rights = re.findall(r"<td>(\d+) / 10</td>", compare)
    assert len(rights) == 2
    assert int(rights[1]) / 10 == pytest.approx(newer / 100)
    assert int(rights[0]) / 10 == pytest.approx(older / 100)
    # Either order of the two versions gives the same comparison.
    swapped = text(browser.get(f"/projects/{project_id}/compare?a=2&b=1"))
    assert re.findall(r"<td>(\d+) / 10</td>", swapped) == rights
    wait_for_jobs(app)


def test_retraining_on_the_same_examples_says_no_fair_comparison_exists(
    app: Flask, browser: Browser
) -> None:
    project_id = browser.create_project("Digits")
    zeros = browser.add_class(project_id, "zero")
    ones = browser.add_class(project_id, "one")
    upload(browser, project_id, zeros, 0, 6, 0)
    upload(browser, project_id, ones, 1, 6, 0)
    browser.train(project_id)
    second = browser.train(project_id)
    assert second["status"] == "Done: version 2 is ready and now answers new photos."
    compare = text(browser.get(f"/projects/{project_id}/compare?a=1&b=2"))
    assert 'id="evaluations-differ"' not in compare  # same method, examples and classes
    assert (
        "Version 1 trained on every example version 2 was evaluated on, so they cannot be "
        "scored on the same unseen examples."
    ) in compare
    wait_for_jobs(app)


def test_a_missing_model_file_names_the_command_that_fixes_it(
    app: Flask, browser: Browser, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "efficientnet-lite0.onnx"
    app.extensions["mirada.inference"] = InProcessInference(model_path=missing)
    project_id = browser.create_project("Digits")
    zeros = browser.add_class(project_id, "zero")
    ones = browser.add_class(project_id, "one")
    upload(browser, project_id, zeros, 0, 5, 0)
    upload(browser, project_id, ones, 1, 5, 0)
    wait_for_jobs(app)

    # The photos' preparation failed: the page says why, not "still being prepared" forever.
    before_training = text(browser.get(f"/projects/{project_id}"))
    assert "The image model file is missing" in before_training
    assert "'make install'" in before_training
    assert "10 examples are not prepared yet. Training prepares them first." in before_training
    assert "still being prepared" not in before_training  # nothing is preparing them

    job = browser.train(project_id)
    assert job["state"] == "failed"
    assert job["error"]["code"] == "model_missing"
    message = job["error"]["message"]
    assert "The image model file is missing" in message
    assert "'make install'" in message
    assert "Something went wrong" not in message
    assert message in text(browser.get(f"/projects/{project_id}"))
    assert project_row(app, project_id).serving_version_id is None


def test_a_corrupt_model_file_is_a_503_and_the_pages_still_work(
    app: Flask, browser: Browser, tmp_path: Path, model_path: Path
) -> None:
    corrupt = tmp_path / "efficientnet-lite0-int8.onnx"
    corrupt.write_bytes(model_path.read_bytes()[:1_000_000])  # a copy cut short
    app.extensions["mirada.inference"] = InProcessInference(model_path=corrupt)
    project_id = browser.create_project("Digits")
    assert browser.get(f"/projects/{project_id}").status_code == 200
    answer = browser.post(
        "/classify",
        {"photos": [(io.BytesIO(digit_pngs(0, 1)[0]), "zero.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert answer.status_code == 503, answer.json
    assert answer.json["error"]["code"] == "model_unavailable"
