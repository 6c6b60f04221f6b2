"""Signing in: credentials, disabled accounts, "remember me" and where the browser goes next."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask import Flask

from mirada.db import User, UserSession
from mirada.db.app_session import db
from mirada.db.base import utcnow
from tests.integration.helpers import (
    PASSWORD,
    add_user,
    count,
    errors_of,
    form_errors_of,
    get_user,
    is_signed_in,
    set_cookie_header,
    text,
)
from tests.support.web import WebClient

ALICE = "alice@example.org"
BAD_CREDENTIALS = "Wrong email or password."


@pytest.fixture
def alice(app: Flask) -> int:
    return add_user(app, ALICE, display_name="Alice")


def session_row(app: Flask) -> UserSession:
    with app.app_context():
        rows = db.session.scalars(db.select(UserSession)).all()
        assert len(rows) == 1
        db.session.expunge(rows[0])
        return rows[0]


def test_signing_in_starts_a_session(app: Flask, web: WebClient, alice: int) -> None:
    assert not is_signed_in(web)

    response = web.submit(
        "/auth/login",
        {"email": ALICE, "password": PASSWORD},
        headers={"User-Agent": "TestBrowser/1.0"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Hello, Alice" in text(web.get("/"))
    assert is_signed_in(web)
    row = session_row(app)
    assert row.user_id == alice
    assert row.user_agent == "TestBrowser/1.0"
    user = get_user(app, ALICE)
    assert user is not None
    assert user.last_login_at is not None


def test_the_email_is_matched_whatever_its_case(web: WebClient, alice: int) -> None:
    assert web.login("  ALICE@Example.ORG ").status_code == 302
    assert is_signed_in(web)


def test_a_wrong_password_and_an_unknown_email_look_the_same(
    app: Flask, web: WebClient, alice: int
) -> None:
    wrong_password = web.login(ALICE, "not the password at all")
    unknown_email = web.login("nobody@example.org", PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert form_errors_of(wrong_password) == form_errors_of(unknown_email) == [BAD_CREDENTIALS]
    assert errors_of(wrong_password, "email") == errors_of(unknown_email, "email") == []
    assert count(app, UserSession) == 0
    assert not is_signed_in(web)


def test_a_malformed_email_is_just_bad_credentials(app: Flask, web: WebClient) -> None:
    response = web.login("not an email\x00", PASSWORD)

    assert response.status_code == 401
    assert form_errors_of(response) == [BAD_CREDENTIALS]


def test_empty_or_oversized_fields_are_refused(
    app: Flask, web: WebClient, alice: int, subtests
) -> None:
    cases = {
        "no-email": ({"email": "", "password": PASSWORD}, "email"),
        "no-password": ({"email": ALICE, "password": ""}, "password"),
        "huge-email": ({"email": "e" * 10_000 + "@example.org", "password": PASSWORD}, "email"),
        "huge-password": ({"email": ALICE, "password": "p" * 10_000}, "password"),
    }
    for case, (data, field) in cases.items():
        with subtests.test(case):
            response = web.submit("/auth/login", data)

            assert response.status_code == 422
            assert errors_of(response, field)
    assert count(app, UserSession) == 0


def test_a_disabled_account_is_refused(app: Flask, web: WebClient) -> None:
    add_user(app, ALICE, active=False)

    response = web.login(ALICE)

    assert response.status_code == 403
    assert form_errors_of(response) == ["This account is disabled. Contact an administrator."]
    assert count(app, UserSession) == 0
    assert not is_signed_in(web)


def test_a_disabled_account_with_a_wrong_password_reveals_nothing(
    app: Flask, web: WebClient
) -> None:
    add_user(app, ALICE, active=False)

    response = web.login(ALICE, "not the password at all")

    assert response.status_code == 401
    assert form_errors_of(response) == [BAD_CREDENTIALS]


def test_remember_me_makes_the_cookie_outlive_the_browser(
    app: Flask, web: WebClient, alice: int
) -> None:
    response = web.login(ALICE, remember="y")

    assert response.status_code == 302
    cookie = set_cookie_header(response, "mirada_session")
    assert cookie is not None
    assert "Expires=" in cookie or "Max-Age=" in cookie
    row = session_row(app)
    assert row.remember is True
    days = app.extensions["mirada.settings"].remember_me_days
    assert abs(row.expires_at - (utcnow() + timedelta(days=days))) < timedelta(minutes=1)


def test_without_remember_me_the_cookie_ends_with_the_browser(
    app: Flask, web: WebClient, alice: int
) -> None:
    response = web.login(ALICE)

    assert response.status_code == 302
    cookie = set_cookie_header(response, "mirada_session")
    assert cookie is not None
    assert "Expires=" not in cookie
    assert "Max-Age=" not in cookie
    row = session_row(app)
    assert row.remember is False
    hours = app.extensions["mirada.settings"].session_idle_hours
    assert abs(row.expires_at - (utcnow() + timedelta(hours=hours))) < timedelta(minutes=1)


def test_the_session_cookie_is_http_only_and_same_site(web: WebClient, alice: int) -> None:
    cookie = set_cookie_header(web.login(ALICE), "mirada_session")

    assert cookie is not None
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def login_page(next_url: str) -> str:
    return "/auth/login?" + urlencode({"next": next_url})


def sign_in_to(app: Flask, next_url: str) -> str:
    """Where a new browser goes after signing in from ``/auth/login?next=next_url``."""
    response = WebClient(app).submit(login_page(next_url), {"email": ALICE, "password": PASSWORD})
    assert response.status_code == 302
    return response.headers["Location"]


def test_sign_in_returns_to_a_local_next_page(app: Flask, alice: int, subtests) -> None:
    for next_url in ("/account/", "/admin/users?q=bob&page=2", "/?x=1"):
        with subtests.test(next_url):
            assert sign_in_to(app, next_url) == next_url


OFFSITE = [
    "//evil.com",
    "//evil.com/account/",
    "https://evil.com",
    "http://evil.com/",
    "/\\evil.com",
    "\\\\evil.com",
    "/\t/evil.com",
    "///evil.com",
    "javascript:alert(1)",
    "evil.com",
]


def test_sign_in_refuses_to_send_the_browser_to_another_site(
    app: Flask, alice: int, subtests
) -> None:
    for next_url in OFFSITE:
        with subtests.test(next_url):
            assert sign_in_to(app, next_url) == "/"


def test_a_page_that_needs_sign_in_sends_there_and_back(web: WebClient, alice: int) -> None:
    response = web.get("/account/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/account/"
    signed_in = web.submit(response.headers["Location"], {"email": ALICE, "password": PASSWORD})
    assert signed_in.headers["Location"] == "/account/"
    assert web.get("/account/").status_code == 200


def test_a_signed_in_user_is_sent_on_from_the_sign_in_page(web: WebClient, alice: int) -> None:
    assert web.login(ALICE).status_code == 302

    assert web.get("/auth/login").headers["Location"] == "/"
    assert web.get(login_page("/account/")).headers["Location"] == "/account/"
    assert web.get(login_page("//evil.com")).headers["Location"] == "/"


def test_a_user_agent_the_database_cannot_store_does_not_break_sign_in(
    app: Flask, web: WebClient, alice: int
) -> None:
    response = web.submit(
        "/auth/login",
        {"email": ALICE, "password": PASSWORD},
        headers={"User-Agent": "Bad\x00Agent " + "x" * 400},
    )

    assert response.status_code == 302
    row = session_row(app)
    assert row.user_agent.startswith("BadAgent x")
    assert len(row.user_agent) == 255


def test_a_rehash_is_not_needed_for_fresh_hashes(app: Flask, web: WebClient, alice: int) -> None:
    before = get_user(app, ALICE)
    assert web.login(ALICE).status_code == 302
    after = get_user(app, ALICE)
    assert before is not None and after is not None
    assert after.password_hash == before.password_hash
    assert count(app, User) == 1


def test_an_account_without_a_password_hash_cannot_sign_in(app: Flask, web: WebClient) -> None:
    user_id = add_user(app, ALICE)
    with app.app_context():  # how an operator might lock password sign-in for an account
        db.session.execute(db.update(User).where(User.id == user_id).values(password_hash=""))
        db.session.commit()

    for password in ("a password nobody has", "", PASSWORD):
        response = web.login(ALICE, password)
        assert response.status_code in (401, 422), password
    assert count(app, UserSession) == 0
