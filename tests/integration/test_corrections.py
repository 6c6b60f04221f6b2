"""Correcting a project's prediction: the choices offered, saving in place (JSON) or by form,
the model's human name, and the "Label these first" links into the history."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import func, select

from mirada.db import Classification, Example
from mirada.db.app_session import db
from tests.support.projects import JSON, Browser, digit_pngs, wait_for_jobs


@pytest.fixture
def taught(app: Flask) -> dict[str, object]:
    """A trained project of zeros and ones, and a zero it classified."""
    browser = Browser(app, "corrector@example.com")
    project = browser.create_project("Digits")
    zeros = browser.add_class(project, "zero")
    ones = browser.add_class(project, "one")
    browser.upload(project, zeros, [(d, f"z{i}.png") for i, d in enumerate(digit_pngs(0, 6))])
    browser.upload(project, ones, [(d, f"o{i}.png") for i, d in enumerate(digit_pngs(1, 6))])
    assert browser.train(project)["state"] == "succeeded"
    photo = digit_pngs(0, 1, skip=20)[0]
    answer = browser.post(
        "/classify",
        {"model": str(project), "photos": [(io.BytesIO(photo), "new-zero.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {
        "browser": browser,
        "project": project,
        "zeros": zeros,
        "ones": ones,
        "result": answer.json["results"][0],
    }


def examples_in(app: Flask, class_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Example.id)).where(Example.class_id == class_id))


def test_a_project_result_carries_its_right_class_choice(taught) -> None:
    result = taught["result"]
    assert result["model"]["label"] == "Digits, version 1"
    assert result["predictions"][0]["label"] == "zero"
    feedback = result["feedback"]
    assert feedback["url"] == f"/history/{result['id']}/feedback"
    assert feedback["class_id"] is None
    assert feedback["predicted_class_id"] == taught["zeros"]
    assert sorted(c["name"] for c in feedback["classes"]) == ["one", "zero"]


def test_history_preselects_the_prediction_and_names_the_model(taught) -> None:
    page = unescape(taught["browser"].get("/history").get_data(as_text=True))
    row = taught["result"]["id"]
    assert f'id="classification-{row}"' in page
    assert "Model: Digits, version 1" in page
    select_tag = re.search(
        rf'<select id="correct-{row}" name="class_id">(.*?)</select>', page, re.S
    )
    assert select_tag, page
    chosen = re.findall(r'<option value="(\d+)" selected>', select_tag.group(1))
    assert chosen == [str(taught["zeros"])]
    assert "Save the right class" in page
    assert "Correct it" not in page


def test_a_correction_saved_by_a_script_answers_json(app, taught) -> None:
    browser, row = taught["browser"], taught["result"]["id"]
    before = examples_in(app, taught["ones"])
    answer = browser.post(
        f"/history/{row}/feedback", {"class_id": str(taught["ones"])}, headers=JSON
    )
    assert answer.status_code == 200
    assert answer.json == {
        "class": {"id": taught["ones"], "name": "one"},
        "message": "Thank you. The photo is now an example of one.",
    }
    wait_for_jobs(app)
    assert examples_in(app, taught["ones"]) == before + 1
    with app.app_context():
        assert db.session.get(Classification, row).feedback_class_id == taught["ones"]
    page = browser.get("/history").get_data(as_text=True)
    assert "Labelled as one." in page
    assert f'id="correct-{row}"' not in page

    # Once only: a second answer (another tab, a double tap) adds nothing.
    again = browser.post(
        f"/history/{row}/feedback", {"class_id": str(taught["zeros"])}, headers=JSON
    )
    assert again.status_code == 409
    assert again.json["error"] == {
        "code": "already_labelled",
        "message": "This photo is already labelled.",
    }
    wait_for_jobs(app)
    assert examples_in(app, taught["ones"]) == before + 1
    with app.app_context():
        assert db.session.get(Classification, row).feedback_class_id == taught["ones"]


def test_a_correction_sent_by_a_form_comes_back_to_its_entry(app, taught) -> None:
    browser, row = taught["browser"], taught["result"]["id"]
    answer = browser.post(
        f"/history/{row}/feedback",
        {"class_id": str(taught["zeros"]), "next": f"/history?before={row + 1}"},
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/history?before={row + 1}#classification-{row}"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [({}, 400, "class_required"), ({"class_id": "abc"}, 400, "class_required")],
)
def test_a_correction_without_a_class_is_refused_in_json(taught, data, status, code) -> None:
    answer = taught["browser"].post(
        f"/history/{taught['result']['id']}/feedback", data, headers=JSON
    )
    assert answer.status_code == status
    assert answer.json["error"]["code"] == code
    assert answer.json["error"]["message"] == "Choose the right class."


def test_label_these_first_links_to_the_entry_in_the_history(taught) -> None:
    browser, row = taught["browser"], taught["result"]["id"]
    page = browser.get(f"/projects/{taught['project']}").get_data(as_text=True)
    link = f'href="/history?before={row + 1}#classification-{row}"'
    assert link in page
    target = browser.get(f"/history?before={row + 1}").get_data(as_text=True)
    assert re.search(r'<li class="history-item" id="classification-(\d+)"', target).group(1) == str(
        row
    )


def test_imagenet_entries_name_the_model_for_people(web, cat_jpeg) -> None:
    web.register("names@example.com")
    answer = web.submit(
        "/classify",
        {"photos": [(io.BytesIO(cat_jpeg), "cat.jpg")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert answer.json["results"][0]["model"]["label"] == "ImageNet (1000 classes)"
    assert "feedback" not in answer.json["results"][0]
    page = web.get("/history").get_data(as_text=True)
    assert "Model: ImageNet (1000 classes)" in page
    assert "efficientnet" not in page
    assert answer.json["results"][0]["model"]["version"] not in page
