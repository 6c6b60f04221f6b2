"""Another user's projects: every page and every action answers 404 and changes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from mirada.db import Classification, Example, Job, ModelVersion, Project, ProjectClass
from mirada.db.app_session import db
from tests.support.projects import JSON, Browser, digit_pngs, wait_for_jobs, zip_of


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything stored about projects, and the files."""
    with app.app_context():
        rows = {
            "projects": [
                (
                    p.id,
                    p.user_id,
                    p.name,
                    p.description,
                    p.threshold,
                    p.serving_version_id,
                    p.serving_pinned_at,
                )
                for p in db.session.scalars(select(Project).order_by(Project.id))
            ],
            "classes": [
                (c.id, c.project_id, c.name)
                for c in db.session.scalars(select(ProjectClass).order_by(ProjectClass.id))
            ],
            "examples": [
                (e.id, e.project_id, e.class_id, e.filename)
                for e in db.session.scalars(select(Example).order_by(Example.id))
            ],
            "versions": [
                (v.id, v.project_id, v.number)
                for v in db.session.scalars(select(ModelVersion).order_by(ModelVersion.id))
            ],
            "jobs": [(j.id, j.project_id, j.kind) for j in db.session.scalars(select(Job))],
            "classifications": [
                (c.id, c.project_id, c.feedback_class_id)
                for c in db.session.scalars(select(Classification))
            ],
        }
    root: Path = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    rows["files"] = sorted(str(p) for p in root.rglob("*") if p.is_file())
    return rows


@pytest.fixture
def owner_objects(app) -> dict[str, int]:
    """User A's project with two classes, examples, a trained version, jobs and a prediction."""
    alice = Browser(app, "alice@example.com")
    project = alice.create_project("Alice's digits")
    zeros = alice.add_class(project, "zero")
    ones = alice.add_class(project, "one")
    alice.upload(project, zeros, [(d, f"z{i}.png") for i, d in enumerate(digit_pngs(0, 5))])
    alice.upload(project, ones, [(d, f"o{i}.png") for i, d in enumerate(digit_pngs(1, 5))])
    job = alice.train(project)
    assert job["state"] == "succeeded", job
    classified = alice.post(
        "/classify",
        {"model": str(project), "photos": [(io.BytesIO(digit_pngs(0, 1, skip=9)[0]), "new.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert classified.status_code == 200
    wait_for_jobs(app)
    with app.app_context():
        example = db.session.scalar(select(Example.id).where(Example.class_id == zeros))
    return {
        "project": project,
        "zeros": zeros,
        "ones": ones,
        "example": example,
        "job": job["id"],
        "version": job["version"],
        "classification": classified.json["results"][0]["id"],
    }


def attempts(a: dict[str, int], own: dict[str, int]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every project address, on A's objects, and on B's own project with A's objects inside."""
    p, c, e, v = a["project"], a["zeros"], a["example"], a["version"]
    photo = [(io.BytesIO(digit_pngs(2, 1)[0]), "mine.png")]
    archive = zip_of({"zero/mine.png": digit_pngs(2, 1, skip=1)[0]})
    on_a = [
        ("GET", f"/projects/{p}", {}),
        ("POST", f"/projects/{p}/classes", {"class-name": "intruder"}),
        ("POST", f"/projects/{p}/examples", {"class_id": str(c), "photos": photo}),
        ("POST", f"/projects/{p}/import", {"archive": (io.BytesIO(archive), "a.zip")}),
        ("POST", f"/projects/{p}/train", {}),
        ("GET", f"/projects/{p}/jobs/{a['job']}", {}),
        (
            "POST",
            f"/projects/{p}/settings",
            {"settings-name": "Taken", "settings-threshold": "0.9"},
        ),
        ("POST", f"/projects/{p}/delete", {}),
        ("GET", f"/projects/{p}/classes/{c}", {}),
        ("POST", f"/projects/{p}/classes/{c}/rename", {"rename-name": "mine"}),
        ("POST", f"/projects/{p}/classes/{c}/delete", {}),
        ("POST", f"/projects/{p}/classes/{c}/merge", {"target_id": str(a["ones"])}),
        (
            "POST",
            f"/projects/{p}/classes/{c}/examples",
            {"action": "move", "target_id": str(a["ones"]), "example_ids": [str(e)]},
        ),
        (
            "POST",
            f"/projects/{p}/classes/{c}/examples",
            {"action": "delete", "example_ids": [str(e)]},
        ),
        ("GET", f"/projects/{p}/examples/{e}/image", {}),
        ("GET", f"/projects/{p}/examples/{e}/thumbnail", {}),
        ("GET", f"/projects/{p}/versions/{v}", {}),
        ("GET", f"/projects/{p}/versions/{v}/confusion.png", {}),
        ("GET", f"/projects/{p}/versions/{v}/export", {}),
        ("POST", f"/projects/{p}/versions/{v}/serve", {}),
        ("POST", f"/projects/{p}/serving/newest", {}),
        ("POST", f"/projects/{p}/versions/{v}/delete", {}),
        ("GET", f"/projects/{p}/compare?a={v}&b={v}", {}),
    ]
    mine, my_class = own["project"], own["class"]
    inside_mine = [
        ("GET", f"/projects/{mine}/classes/{c}", {}),
        ("POST", f"/projects/{mine}/examples", {"class_id": str(c), "photos": photo}),
        ("POST", f"/projects/{mine}/classes/{c}/rename", {"rename-name": "mine"}),
        ("POST", f"/projects/{mine}/classes/{c}/delete", {}),
        ("POST", f"/projects/{mine}/classes/{my_class}/merge", {"target_id": str(c)}),
        ("POST", f"/projects/{mine}/classes/{c}/merge", {"target_id": str(my_class)}),
        (
            "POST",
            f"/projects/{mine}/classes/{my_class}/examples",
            {"action": "move", "target_id": str(my_class), "example_ids": [str(e)]},
        ),
        (
            "POST",
            f"/projects/{mine}/classes/{my_class}/examples",
            {"action": "delete", "example_ids": [str(e)]},
        ),
        ("GET", f"/projects/{mine}/examples/{e}/image", {}),
        ("GET", f"/projects/{mine}/examples/{e}/thumbnail", {}),
        ("GET", f"/projects/{mine}/jobs/{a['job']}", {}),
        ("GET", f"/projects/{mine}/versions/{v}", {}),
        ("GET", f"/projects/{mine}/versions/{v}/export", {}),
        ("POST", f"/projects/{mine}/versions/{v}/serve", {}),
        ("POST", f"/projects/{mine}/versions/{v}/delete", {}),
    ]
    return on_a + inside_mine


def fresh(data: dict[str, Any]) -> dict[str, Any]:
    """The form data with new file streams (a stream is spent once it has been sent)."""

    def renew(value: Any) -> Any:
        if isinstance(value, tuple) and isinstance(value[0], io.BytesIO):
            return (io.BytesIO(value[0].getvalue()), value[1])
        if isinstance(value, list):
            return [renew(item) for item in value]
        return value

    return {key: renew(value) for key, value in data.items()}


def test_another_user_gets_404_everywhere_and_changes_nothing(app, owner_objects) -> None:
    before = snapshot(app)
    bob = Browser(app, "bob@example.com")
    mine = bob.create_project("Bob's")
    own = {"project": mine, "class": bob.add_class(mine, "zero")}

    answers = {}
    for method, path, data in attempts(owner_objects, own):
        if method == "GET":
            response = bob.get(path)
        else:
            multipart = any(k in data for k in ("photos", "archive"))
            response = bob.post(
                path, fresh(data), content_type="multipart/form-data" if multipart else None
            )
        answers[f"{method} {path} {sorted(data)}"] = response.status_code
    assert {key: status for key, status in answers.items() if status != 404} == {}

    in_json = bob.get(f"/projects/{owner_objects['project']}", headers=JSON)
    assert in_json.status_code == 404
    assert in_json.json["error"]["code"] == "project_not_found"
    listing = bob.get("/projects").get_data(as_text=True)
    assert "Alice" not in listing
    assert "/media/classifications/" not in bob.get(f"/projects/{mine}").get_data(as_text=True)
    foreign_model = bob.post(
        "/classify",
        {
            "model": str(owner_objects["project"]),
            "photos": [(io.BytesIO(digit_pngs(3, 1)[0]), "x.png")],
        },
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert foreign_model.status_code == 404
    feedback = bob.post(
        f"/history/{owner_objects['classification']}/feedback", {"class_id": str(own["class"])}
    )
    assert feedback.status_code == 404

    wait_for_jobs(app)
    after = snapshot(app)
    # Bob's own new project and class are the only new rows.
    after["projects"] = [row for row in after["projects"] if row[0] != mine]
    after["classes"] = [row for row in after["classes"] if row[1] != mine]
    assert after == before
