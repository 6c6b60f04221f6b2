"""ImageNet classes named in the reader's language: Classify page, its JSON and the history."""

from __future__ import annotations

import io
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import select

from mirada.db import Classification, User
from mirada.db.app_session import db
from mirada.services.projects import create_project
from mirada.vision.labels import imagenet_label
from tests.support.web import WebClient

JSON = {"Accept": "application/json"}


def classify(web: WebClient, data: bytes, *, headers: dict[str, str] | None = None):
    return web.submit(
        "/classify",
        {"photos": [(io.BytesIO(data), "chelsea.jpg")]},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def speak(web: WebClient, locale: str) -> None:
    """Choose the signed-in user's language with the language switcher."""
    response = web.submit("/", {"locale": locale, "next": "/"}, action="/language")
    assert response.status_code == 302


def page(web: WebClient, path: str) -> str:
    response = web.get(path)
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def stored(app: Flask) -> Classification:
    with app.app_context():
        return db.session.scalars(select(Classification)).one()


@pytest.fixture
def spanish(web: WebClient) -> WebClient:
    web.register("ana@example.com")
    speak(web, "es")
    return web


def test_a_spanish_user_reads_spanish_names_in_the_json(app, spanish, cat_jpeg) -> None:
    response = classify(spanish, cat_jpeg, headers=JSON)
    assert response.status_code == 200
    predictions = response.json["results"][0]["predictions"]
    assert len(predictions) == 5
    assert "Egyptian cat" in [p["label_en"] for p in predictions]
    assert "gato egipcio" in [p["label"] for p in predictions]
    for p in predictions:
        label = imagenet_label(p["index"])
        assert p == {
            "index": label.index,
            "label": label.names["es"],
            "label_en": label.en,
            "wnid": label.wnid,
            "score": p["score"],
        }


def test_a_spanish_user_reads_spanish_names_on_the_pages(app, spanish, cat_jpeg) -> None:
    response = classify(spanish, cat_jpeg)
    assert response.status_code == 200
    result = unescape(response.get_data(as_text=True))
    assert "gato egipcio" in result
    assert "Egyptian cat" not in result
    row = stored(app)
    assert row.top_label == imagenet_label(row.predictions[0]["index"]).en  # stored in English
    history = page(spanish, "/history")
    top = imagenet_label(row.predictions[0]["index"])
    assert f'<h2 class="history-title">{top.names["es"]} ' in history
    assert "gato egipcio" in history
    assert all(imagenet_label(p["index"]).en not in history for p in row.predictions)


def test_an_english_user_reads_english_names(app, web, cat_jpeg) -> None:
    web.register("bob@example.com")
    predictions = classify(web, cat_jpeg, headers=JSON).json["results"][0]["predictions"]
    assert "Egyptian cat" in [p["label"] for p in predictions]
    assert all(p["label"] == p["label_en"] == imagenet_label(p["index"]).en for p in predictions)
    history = page(web, "/history")
    assert "Egyptian cat" in history
    assert "gato egipcio" not in history


def test_the_history_follows_the_language_of_today(app, web, cat_jpeg) -> None:
    web.register("carla@example.com")
    classify(web, cat_jpeg)
    assert "Egyptian cat" in page(web, "/history")
    speak(web, "es")
    history = page(web, "/history")
    assert "gato egipcio" in history
    assert "Egyptian cat" not in history


def test_a_browser_asking_for_spanish_gets_spanish_json(app, web, cat_jpeg) -> None:
    web.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9,en;q=0.5"
    web.register("dani@example.com")
    response = classify(web, cat_jpeg, headers=JSON)
    assert "gato egipcio" in [p["label"] for p in response.json["results"][0]["predictions"]]


def test_project_class_names_are_shown_as_their_owner_wrote_them(app, spanish, cat_jpeg) -> None:
    classify(spanish, cat_jpeg)
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        project = create_project(session=db.session(), user=user, name="Digits")
        template = db.session.scalars(select(Classification)).one()
        db.session.add(
            Classification(
                user_id=user.id,
                project_id=project.id,
                filename="digit.png",
                content_type=template.content_type,
                image_key=template.image_key,
                thumbnail_key=template.thumbnail_key,
                width=template.width,
                height=template.height,
                model_name="Digits",
                model_version="1",
                top_label="seven",
                top_score=0.9,
                predictions=[
                    {"index": 0, "label": "seven", "score": 0.9},
                    {"index": 1, "label": "one", "score": 0.1},
                ],
            )
        )
        db.session.commit()
    history = page(spanish, "/history")
    assert '<h2 class="history-title">seven ' in history
    assert '<span class="prediction-label">one</span>' in history
    assert imagenet_label(0).names["es"] not in history  # index 0 of the project, not "tenca"
