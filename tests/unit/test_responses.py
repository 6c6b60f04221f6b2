"""The one page-or-JSON choice of the views (mirada.web.responses), on a bare Flask app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, redirect
from flask_babel import Babel
from flask_wtf import FlaskForm
from wtforms import StringField

from mirada.services.errors import Busy, Conflict, ServiceError
from mirada.web.responses import answer, form_refused

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}
TRANSLATIONS = Path(__file__).parents[2] / "src" / "mirada" / "web" / "translations"


class NameForm(FlaskForm):
    name = StringField()
    other = StringField()


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test",
        WTF_CSRF_ENABLED=False,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    Babel(app)
    yield app


def test_answer_gives_the_page_or_the_body_the_client_asked_for(app: Flask) -> None:
    made: list[str] = []

    def page() -> str:
        made.append("page")
        return "<p>page</p>"

    def body() -> dict[str, int]:
        made.append("body")
        return {"n": 1}

    with app.test_request_context(headers=JSON):
        response = answer(html=page, json=body, status=207, headers={"Retry-After": "3"})
        assert (response.status_code, response.get_json()) == (207, {"n": 1})
        assert response.headers["Retry-After"] == "3"
    with app.test_request_context(headers=HTML):
        response = answer(html=page, json=body, status=422)
        assert (response.status_code, response.get_data(as_text=True)) == (422, "<p>page</p>")
        assert response.mimetype == "text/html"
    assert made == ["body", "page"]  # only the answer given is made


def test_a_ready_response_keeps_its_own_status(app: Flask) -> None:
    with app.test_request_context(headers=HTML):
        response = answer(html=lambda: redirect("/there"), json=lambda: {}, status=202)
        assert (response.status_code, response.location) == (302, "/there")


def test_a_form_that_fails_its_own_checks(app: Flask) -> None:
    with app.test_request_context(method="POST", data={}, headers=JSON):
        form = NameForm()
        form.name.errors = ["Enter a name."]
        response = form_refused(form, lambda: "page")
        assert response.status_code == 422
        assert response.get_json() == {"error": {"code": "invalid", "message": "Enter a name."}}
    with app.test_request_context(method="POST", data={}, headers=HTML):
        response = form_refused(NameForm(), lambda: "page again")
        assert (response.status_code, response.get_data(as_text=True)) == (422, "page again")


def test_a_refusal_goes_under_its_field_or_answers_as_json(app: Flask) -> None:
    refusal = Conflict("email_taken")
    with app.test_request_context(method="POST", data={"name": "a"}, headers=HTML):
        form = NameForm()
        response = form_refused(form, lambda: "page", refusal, {"": form.name, "x": form.other})
        assert response.status_code == 409
        assert (list(form.name.errors), list(form.other.errors)) == (
            ["An account with this email already exists."],
            [],
        )
    with app.test_request_context(method="POST", data={"name": "a"}, headers=JSON):
        response = form_refused(NameForm(), lambda: "page", refusal)
        assert response.status_code == 409
        body = {
            "error": {
                "code": "email_taken",
                "message": "An account with this email already exists.",
            }
        }
        assert response.get_json() == body


def test_a_refusal_that_says_when_to_retry(app: Flask) -> None:
    busy = Busy("busy", retry_after_s=7)
    with app.test_request_context(method="POST", headers=JSON):
        response = form_refused(NameForm(), lambda: "page", busy)
        assert (response.status_code, response.headers["Retry-After"]) == (503, "7")
    with app.test_request_context(method="POST", headers=HTML):
        form = NameForm()
        response = form_refused(form, lambda: "page", ServiceError("no_files"))
        assert response.status_code == 422
        assert form.form_errors == ["Choose at least one photo."]
