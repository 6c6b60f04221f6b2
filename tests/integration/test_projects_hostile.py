"""What a careless or hostile user sends to the project pages gets a clear answer, never a 500."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

from mirada.db import Job, Project
from mirada.db.app_session import db
from mirada.services import jobs
from tests.integration.helpers import count
from tests.support.projects import JSON, Browser, digit_pngs, wait_for_jobs


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app, "careless@example.com")


def blob_files(app: Flask) -> list[Path]:
    root = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_class_names_differing_only_in_case_clash_in_any_alphabet(app, browser) -> None:
    project_id = browser.create_project("Birds")
    browser.add_class(project_id, "Ñandú")
    clash = browser.post(f"/projects/{project_id}/classes", {"class-name": "ñANDÚ"})
    assert clash.status_code == 409
    again = browser.post("/projects", {"name": "BIRDS"})
    assert again.status_code == 409
    assert count(app, Project) == 1


@pytest.mark.parametrize("description", ["a\x00b", "bell\x07"])
def test_control_characters_in_a_description_are_refused(app, browser, description) -> None:
    response = browser.post("/projects", {"name": "Tidy", "description": description})
    assert response.status_code == 422
    assert count(app, Project) == 0


def test_digits_of_other_scripts_are_not_ids(app, browser) -> None:
    photo = digit_pngs(1, 1)[0]
    for model in ("\u00b2", "\u0661", "1e3"):  # superscript two, Arabic-Indic one
        response = browser.post(
            "/classify",
            {"model": model, "photos": [(io.BytesIO(photo), "one.png")]},
            content_type="multipart/form-data",
            headers=JSON,
        )
        assert response.status_code == 404, model


def test_only_one_job_of_a_kind_can_be_active(app, browser) -> None:
    project_id = browser.create_project("Jobs")
    with app.app_context():
        project = db.session.get(Project, project_id)
        first = jobs.create_job(session=db.session(), project=project, kind="train")
        db.session.commit()
        with pytest.raises(IntegrityError):
            jobs.create_job(session=db.session(), project=project, kind="train")
        db.session.rollback()
        queue = app.extensions["mirada.jobs"]
        found = jobs.submit_job(session=db.session(), queue=queue, project=project, kind="train")
        assert found.id == first.id
        db.session.query(Job).delete()
        db.session.commit()


def test_deleting_a_project_deletes_the_photos_classified_with_it(app, browser) -> None:
    project_id = browser.digits_project("Gone", {0: "zero", 1: "one"}, 5)
    assert browser.train(project_id)["state"] == "succeeded"
    classified = browser.post(
        "/classify",
        {"model": str(project_id), "photos": [(io.BytesIO(digit_pngs(0, 1, skip=9)[0]), "z.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert classified.status_code == 200
    wait_for_jobs(app)
    assert browser.post(f"/projects/{project_id}/delete").status_code == 302
    assert blob_files(app) == []


def test_class_page_refusals_answer_json_to_scripts(app, browser) -> None:
    project_id = browser.create_project("Scripts")
    cls = browser.add_class(project_id, "only")
    merged = browser.post(
        f"/projects/{project_id}/classes/{cls}/merge", {"target_id": str(cls)}, headers=JSON
    )
    assert merged.status_code == 400
    assert merged.json["error"]["message"] == "Choose another class to merge into."
    nothing = browser.post(
        f"/projects/{project_id}/classes/{cls}/examples", {"action": "delete"}, headers=JSON
    )
    assert nothing.status_code == 400
    assert nothing.json["error"]["code"] == "invalid_request"
