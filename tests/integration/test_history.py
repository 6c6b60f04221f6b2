"""The history: keyset pages, deleting one or all, and privacy between users."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from mirada.db import Classification, User
from mirada.db.app_session import db
from tests.support.web import WebClient

JSON = {"Accept": "application/json"}


def classify(web: WebClient, data: bytes, name: str = "cat.jpg") -> dict:
    response = web.submit(
        "/classify",
        {"photos": [(io.BytesIO(data), name)]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 200
    return response.json["results"][0]


def add_rows(app: Flask, email: str, count: int) -> None:
    """Copies of the user's one real classification, to fill pages quickly."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        template = db.session.scalars(
            select(Classification).where(Classification.user_id == user.id)
        ).first()
        for i in range(count):
            db.session.add(
                Classification(
                    user_id=user.id,
                    filename=f"copy-{i}.jpg",
                    content_type=template.content_type,
                    image_key=template.image_key,
                    thumbnail_key=template.thumbnail_key,
                    width=template.width,
                    height=template.height,
                    model_name=template.model_name,
                    model_version=template.model_version,
                    top_label=template.top_label,
                    top_score=template.top_score,
                    predictions=template.predictions,
                )
            )
        db.session.commit()


def test_history_pages_newest_first(app, web, cat_jpeg) -> None:
    web.register("pages@example.com")
    classify(web, cat_jpeg, "first.jpg")
    add_rows(app, "pages@example.com", 30)
    first = web.get("/history").get_data(as_text=True)
    assert first.count('class="history-item"') == 24
    assert "copy-29.jpg" in first
    older = re.search(r'href="(/history\?before=\d+)"', first)
    assert older
    second = web.get(older.group(1)).get_data(as_text=True)
    assert second.count('class="history-item"') == 7
    assert "first.jpg" in second
    assert "copy-29.jpg" not in second
    assert 'rel="next"' not in second


def test_history_shows_model_and_localised_date(app, web, cat_jpeg) -> None:
    web.register("dates@example.com")
    classify(web, cat_jpeg)
    page = web.get("/history").get_data(as_text=True)
    assert "Model: ImageNet (1000 classes)" in page
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT", page)


def test_bad_cursor_is_harmless(app, web) -> None:
    web.register("cursor@example.com")
    for query in ("?before=abc", "?before=-5", "?before=99999999999999999999"):
        assert web.get("/history" + query).status_code == 200


def test_delete_one_and_all(app, web, cat_jpeg, coffee_jpeg) -> None:
    web.register("tidy@example.com")
    first = classify(web, cat_jpeg)
    classify(web, coffee_jpeg)
    response = web.submit("/history", {}, action=f"/history/{first['id']}/delete")
    assert response.status_code == 302
    assert web.get(first["thumbnail_url"]).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Classification.id))) == 1
    web.submit("/history", {}, action="/history/delete-all")
    with app.app_context():
        assert db.session.scalar(select(func.count(Classification.id))) == 0
    blobs = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    assert [p for p in blobs.rglob("*") if p.is_file()] == []


@pytest.fixture
def two_users(app: Flask, cat_jpeg: bytes) -> tuple[WebClient, WebClient, dict]:
    owner, other = WebClient(app), WebClient(app)
    owner.register("owner@example.com")
    other.register("other@example.com")
    return owner, other, classify(owner, cat_jpeg)


def test_another_user_sees_404_and_changes_nothing(app, two_users) -> None:
    owner, other, result = two_users
    assert other.get(result["thumbnail_url"]).status_code == 404
    assert other.get(result["image_url"]).status_code == 404
    assert other.submit("/history", {}, action=f"/history/{result['id']}/delete").status_code == 404
    other.submit("/history", {}, action="/history/delete-all")
    assert "history-item" not in other.get("/history").get_data(as_text=True)
    assert owner.get(result["thumbnail_url"]).status_code == 200
    assert owner.get("/history").get_data(as_text=True).count('class="history-item"') == 1


def test_unknown_media_kind_is_404(app, two_users) -> None:
    owner, _, result = two_users
    assert owner.get(f"/media/classifications/{result['id']}/original").status_code == 404


def test_deleting_the_account_deletes_its_files(app, two_users) -> None:
    owner, _, _ = two_users
    response = owner.submit(
        "/account/", {"password": "correct horse battery"}, action="/account/delete"
    )
    assert response.status_code == 302
    blobs = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    assert [p for p in blobs.rglob("*") if p.is_file()] == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Classification.id))) == 0
