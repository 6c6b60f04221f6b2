"""A project trained on one backbone, after the install changed its model file (fp32 to
int8, say): its version is refused rather than run on numbers it was not trained on, and
the next training embeds every example again."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import update

from mirada.db import Example, ModelVersion
from mirada.db.app_session import db
from tests.support.projects import JSON, Browser, digit_pngs, project_row, wait_for_jobs

OTHER_BACKBONE = "0a1b2c3d4e5f"


def _classify(browser: Browser, project_id: int):
    photo = digit_pngs(3, 1, skip=30)[0]
    return browser.post(
        "/classify",
        {"model": str(project_id), "photos": [(io.BytesIO(photo), "three.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )


def test_a_version_of_another_backbone_is_refused_until_trained_again(app: Flask) -> None:
    browser = Browser(app, "switcher@example.com")
    project_id = browser.digits_project("Digits", {3: "three", 8: "eight"}, 6)
    assert browser.train(project_id)["state"] == "succeeded"
    assert _classify(browser, project_id).status_code == 200
    wait_for_jobs(app)
    with app.app_context():  # what an install that changed its model file looks like
        db.session.execute(update(ModelVersion).values(backbone_version=OTHER_BACKBONE))
        db.session.execute(update(Example).values(embedding_backbone=OTHER_BACKBONE))
        db.session.commit()

    refused = _classify(browser, project_id)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "version_other_backbone"
    assert "Version 1 was trained with another model" in refused.json["error"]["message"]
    assert browser.post("/language", {"locale": "es", "next": "/"}).status_code == 302
    spanish = _classify(browser, project_id)
    assert "La versión 1 se entrenó con otro modelo" in spanish.json["error"]["message"]
    export = browser.get(f"/projects/{project_id}/versions/1/export")
    assert export.status_code == 409
    assert "Vuelve a entrenar el proyecto" in export.get_data(as_text=True)
    page = browser.get(f"/projects/{project_id}").get_data(as_text=True)
    assert 'id="serving-other-model"' in page and "Entrenada con otro modelo" in page
    assert f"/projects/{project_id}/versions/1/export" not in page  # no Download to fail

    assert browser.train(project_id)["state"] == "succeeded"
    answered = _classify(browser, project_id)
    assert answered.status_code == 200, answered.json
    assert answered.json["results"][0]["predictions"][0]["label"] == "three"
    with app.app_context():
        tags = set(db.session.scalars(db.select(Example.embedding_backbone)))
        served = db.session.scalar(db.select(ModelVersion).where(ModelVersion.number == 2))
        assert served is not None and tags == {served.backbone_version} != {OTHER_BACKBONE}
    assert browser.get(f"/projects/{project_id}/versions/2/export").status_code == 200
    compare = browser.get(f"/projects/{project_id}/compare?a=1&b=2").get_data(as_text=True)
    assert 'id="other-models"' in compare
    pin = browser.post(f"/projects/{project_id}/versions/1/serve", headers=JSON)
    assert pin.status_code == 409 and pin.json["error"]["code"] == "version_other_backbone"
    assert project_row(app, project_id).serving_pinned_at is None
