"""Cross-site request forgery, security headers, cookie flags and error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mirada.db import PasswordResetToken, User, UserSession
from mirada.db.app_session import db
from mirada.web.auth.mailing import mail_reset_link
from tests.integration.helpers import (
    PASSWORD,
    add_user,
    count,
    deliver_mail,
    get_user,
    is_signed_in,
    set_cookie_header,
    signed_in,
    text,
)
from tests.support.mail import MailCatcher
from tests.support.web import WebClient, csrf_token_in

ALICE = "alice@example.org"
BOB = "bob@example.org"
CSRF_MESSAGE = (
    "This form has expired or did not come from this site. Reload the page and try again."
)
TRACEBACK_MARKERS = ("Traceback", 'File "', "werkzeug", "sqlalchemy", "Error:")


@dataclass
class Form:
    """A state-changing form, who posts it, and how to see that nothing changed."""

    client: FlaskClient
    path: str
    data: dict[str, str]
    snapshot: Callable[[], Any]


def database_state(app: Flask) -> Callable[[], Any]:
    """What a forged post could change: accounts, sessions and reset links."""

    def snapshot() -> Any:
        with app.app_context():
            users = [
                (u.email, u.display_name, u.password_hash, u.is_active, u.is_admin, u.locale)
                for u in db.session.scalars(select(User).order_by(User.id))
            ]
            sessions = db.session.scalars(select(UserSession.token_hash).order_by("token_hash"))
            links = db.session.scalars(select(PasswordResetToken.used_at))
            return users, sessions.all(), links.all()

    return snapshot


def reset_token(app: Flask) -> str:
    """A live reset token for Alice (the link is mailed as usual)."""
    tokens: list[str] = []

    def link_for(token: str) -> str:
        tokens.append(token)
        return f"http://localhost/auth/reset/{token}"

    with app.test_request_context():
        mail_reset_link(
            settings=app.extensions["mirada.settings"],
            mailer=app.extensions["mirada.mailer"],
            email=ALICE,
            link_for=link_for,
        )
    deliver_mail(app)
    return tokens[0]


def form_for(case: str, app: Flask) -> Form:
    add_user(app, ALICE, display_name="Alice")
    snapshot = database_state(app)
    anonymous = app.test_client()
    if case == "register":
        data = {"email": "new@example.org", "password": PASSWORD, "confirm": PASSWORD}
        return Form(anonymous, "/auth/register", data, snapshot)
    if case == "login":
        return Form(anonymous, "/auth/login", {"email": ALICE, "password": PASSWORD}, snapshot)
    if case == "forgot":
        return Form(anonymous, "/auth/forgot", {"email": ALICE}, snapshot)
    if case == "reset":
        data = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
        return Form(anonymous, f"/auth/reset/{reset_token(app)}", data, snapshot)
    if case == "language":
        return Form(anonymous, "/language", {"locale": "es", "next": "/"}, snapshot)
    alice = signed_in(app, ALICE).client
    if case == "logout":
        return Form(alice, "/auth/logout", {}, snapshot)
    if case == "profile":
        data = {"display_name": "Mallory", "locale": "es"}
        return Form(alice, "/account/profile", data, snapshot)
    if case == "password":
        data = {
            "current_password": PASSWORD,
            "new_password": "pwned pwned pwned",
            "confirm": "pwned pwned pwned",
        }
        return Form(alice, "/account/password", data, snapshot)
    if case == "delete":
        return Form(alice, "/account/delete", {"password": PASSWORD}, snapshot)
    if case == "signed-in-language":
        return Form(alice, "/language", {"locale": "es", "next": "/"}, snapshot)
    assert case == "admin-action"
    add_user(app, "root@example.org", admin=True)
    bob_id = add_user(app, BOB)
    root = signed_in(app, "root@example.org").client
    return Form(root, f"/admin/users/{bob_id}/disable", {}, snapshot)


FORMS = [
    "register",
    "login",
    "logout",
    "forgot",
    "reset",
    "profile",
    "password",
    "delete",
    "language",
    "signed-in-language",
    "admin-action",
]


def foreign_token(app: Flask) -> str:
    """A genuine token, but of another browser's session."""
    return csrf_token_in(app.test_client().get("/auth/login").get_data(as_text=True))


@pytest.mark.parametrize("case", FORMS)
def test_a_post_without_a_valid_csrf_token_is_refused(
    app: Flask, mail_catcher: MailCatcher, case: str
) -> None:
    form = form_for(case, app)
    form.client.get("/")  # the browser has a session with a CSRF secret of its own
    before = form.snapshot()
    mails_before = len(mail_catcher.messages)

    for token in (None, "", "not-a-token", foreign_token(app)):
        data = dict(form.data) if token is None else {**form.data, "csrf_token": token}
        response = form.client.post(form.path, data=data)

        assert response.status_code == 400, token
        assert response.mimetype == "text/html"
        assert CSRF_MESSAGE in text(response)
        assert form.snapshot() == before
    deliver_mail(app)
    assert len(mail_catcher.messages) == mails_before
    assert form.client.get_cookie("mirada_lang") is None


def test_the_csrf_token_of_a_form_is_accepted(app: Flask) -> None:
    """The counterpart of the test above: the same post with the page's token goes through."""
    form = form_for("profile", app)
    html = form.client.get("/account/").get_data(as_text=True)

    response = form.client.post(form.path, data={**form.data, "csrf_token": csrf_token_in(html)})

    assert response.status_code == 302
    assert get_user(app, ALICE).display_name == "Mallory"  # type: ignore[union-attr]


def test_html_responses_carry_the_security_headers(app: Flask, subtests) -> None:
    add_user(app, ALICE)
    anonymous, alice = app.test_client(), signed_in(app, ALICE).client
    pages = [
        (anonymous, "/"),
        (anonymous, "/auth/login"),
        (anonymous, "/auth/register"),
        (anonymous, "/no/such/page"),
        (alice, "/account/"),
        (alice, "/admin/users"),  # 403
    ]
    for client, path in pages:
        with subtests.test(path):
            response = client.get(path)

            assert response.mimetype == "text/html"
            csp = response.headers["Content-Security-Policy"]
            assert "unsafe-inline" not in csp
            assert "unsafe-eval" not in csp
            directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";")}
            assert directives["frame-ancestors"] == "frame-ancestors 'none'"
            assert directives["default-src"] == "default-src 'self'"
            assert directives["object-src"] == "object-src 'none'"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "same-origin"
            assert response.headers["Cache-Control"] == "no-store"


def test_the_pages_have_no_inline_scripts_or_styles(client: FlaskClient) -> None:
    html = client.get("/auth/register").get_data(as_text=True)

    assert "<script>" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert " onclick=" not in html


def test_hsts_is_sent_over_https_only(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers

    secure = client.get("/", base_url="https://localhost")

    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def https_sign_in(client: FlaskClient, base_url: str):
    html = client.get("/auth/login", base_url=base_url).get_data(as_text=True)
    return client.post(
        "/auth/login",
        base_url=base_url,
        headers={"Referer": f"{base_url}/auth/login"},
        data={"csrf_token": csrf_token_in(html), "email": ALICE, "password": PASSWORD},
    )


def test_the_session_cookie_is_secure_over_https(app: Flask) -> None:
    add_user(app, ALICE)

    response = https_sign_in(app.test_client(), "https://localhost")

    assert response.status_code == 302
    for name in ("mirada_session", "mirada_device"):
        cookie = set_cookie_header(response, name)
        assert cookie is not None, name
        assert "; Secure" in cookie, name
        assert "; HttpOnly" in cookie, name


def test_the_session_cookie_is_not_secure_over_http(app: Flask) -> None:
    add_user(app, ALICE)

    response = https_sign_in(app.test_client(), "http://localhost")

    assert response.status_code == 302
    for name in ("mirada_session", "mirada_device"):
        cookie = set_cookie_header(response, name)
        assert cookie is not None, name
        assert "Secure" not in cookie, name


def test_an_https_post_from_another_site_is_refused(app: Flask) -> None:
    add_user(app, ALICE)
    client = app.test_client()
    html = client.get("/auth/login", base_url="https://localhost").get_data(as_text=True)

    response = client.post(
        "/auth/login",
        base_url="https://localhost",
        headers={"Referer": "https://evil.example/login"},
        data={"csrf_token": csrf_token_in(html), "email": ALICE, "password": PASSWORD},
    )

    assert response.status_code == 400
    assert count(app, UserSession) == 0


def test_a_missing_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page?x=<script>")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = text(response)
    assert "Page not found" in body
    assert 'href="/"' in body
    assert "<script>" not in response.get_data(as_text=True)  # the query is escaped
    for marker in TRACEBACK_MARKERS:
        assert marker not in body


def test_an_unexpected_error_is_a_friendly_500_without_a_traceback(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/__boom")
    def boom() -> str:
        raise RuntimeError("secret detail of the failure")

    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    with caplog.at_level(logging.ERROR, logger="mirada.web.errors"):
        response = app.test_client().get("/__boom")

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    body = text(response)
    assert "Something went wrong" in body
    assert "We could not complete your request. The problem has been logged." in body
    assert "secret detail" not in body
    assert "RuntimeError" not in body
    for marker in TRACEBACK_MARKERS:
        assert marker not in body
    assert response.headers["Content-Security-Policy"]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert logged, "the error is logged for the operator"


def test_requests_that_must_not_change_state_are_refused(app: Flask, subtests) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)
    for method, path in [
        ("GET", "/auth/logout"),
        ("GET", "/account/profile"),
        ("GET", "/account/password"),
        ("GET", "/account/delete"),
        ("GET", "/language"),
        ("PUT", "/auth/login"),
        ("DELETE", "/account/"),
    ]:
        with subtests.test(f"{method} {path}"):
            response = web.client.open(path, method=method)

            assert response.status_code == 405
            assert "This address does not accept that kind of request." in text(response)
            assert is_signed_in(web)
    assert count(app, User) == 1


def test_a_tampered_session_cookie_is_anonymous(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)
    cookie = web.client.get_cookie("mirada_session")
    assert cookie is not None

    forged = WebClient(app)
    forged.client.set_cookie(
        "mirada_session", cookie.value[:-2] + ("AA" if cookie.value[-2:] != "AA" else "BB")
    )

    assert not is_signed_in(forged)
    assert is_signed_in(web)


def test_a_session_cookie_signed_with_another_key_is_anonymous(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)
    token = app.session_interface.get_signing_serializer(app).loads(
        web.client.get_cookie("mirada_session").value  # type: ignore[union-attr]
    )
    other_key = app.session_interface.get_signing_serializer(app)
    other_key.secret_keys = [b"another secret key entirely"]

    forged = WebClient(app)
    forged.client.set_cookie("mirada_session", other_key.dumps(token))

    assert not is_signed_in(forged)
