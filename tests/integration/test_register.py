"""Creating an account on the register page."""

from __future__ import annotations

import pytest
from flask import Flask

from mirada.db import User, UserSession
from mirada.services.passwords import common_passwords
from tests.integration.helpers import (
    PASSWORD,
    count,
    errors_of,
    get_user,
    is_signed_in,
    text,
)
from tests.support.web import WebClient

EMAIL_MESSAGE = "Enter a valid email address."


def register(
    web: WebClient,
    email: str,
    password: str = PASSWORD,
    *,
    confirm: str | None = None,
    display_name: str = "",
):
    return web.submit(
        "/auth/register",
        {
            "email": email,
            "display_name": display_name,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def assert_nothing_written(app: Flask) -> None:
    assert count(app, User) == 0
    assert count(app, UserSession) == 0


def test_registering_creates_the_account_and_signs_in(app: Flask, web: WebClient) -> None:
    response = register(web, "  Ann.Lee@Example.ORG ", display_name="  Ann   Lee ")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = get_user(app, "ann.lee@example.org")
    assert user is not None
    assert user.display_name == "Ann Lee"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert (user.is_active, user.is_admin) == (True, False)
    assert user.last_login_at is not None
    assert count(app, User) == 1
    assert count(app, UserSession, UserSession.user_id == user.id) == 1
    home = web.get("/")
    assert "Hello, Ann Lee" in text(home)
    assert "Welcome to Mirada! Your account is ready." in text(home)
    assert is_signed_in(web)


def test_the_register_page_sends_signed_in_users_home(app: Flask, web: WebClient) -> None:
    assert register(web, "ann@example.org").status_code == 302
    response = web.get("/auth/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop"])
def test_the_common_passwords_used_here_are_in_the_list(password: str) -> None:
    assert password in common_passwords()


COMMON = "This password is too common. Choose one that is harder to guess."
WEAK_PASSWORDS = {
    "too-short": ("short1!", "Field must be between 8 and 256 characters long."),
    "common": ("password1234", COMMON),
    "common-other-case": ("QwertyUiop", COMMON),
    "the-email": ("ann@example.org", COMMON),
    "the-email-other-case": ("Ann@Example.org", COMMON),
}


def test_weak_passwords_are_refused(app: Flask, web: WebClient, subtests) -> None:
    for case, (password, message) in WEAK_PASSWORDS.items():
        with subtests.test(case):
            response = register(web, "ann@example.org", password)

            assert response.status_code == 422
            assert message in errors_of(response, "password")
            assert_nothing_written(app)
    assert not is_signed_in(web)


MALFORMED_EMAILS = {
    "no-at": "ann.example.org",
    "space-in-local-part": "ann lee@example.org",
    "space-in-domain": "ann@exa mple.org",
    "no-dot-in-domain": "a@b",
    "double-dot": "ann@example..org",
    "no-local-part": "@example.org",
    "no-domain": "ann@",
    "two-at-signs": "ann@lee@example.org",
    "zero-width-space": "ann\u200b@example.org",
    "right-to-left-override": "ann@example.org\u202e",
    "full-width-at-sign": "ann\uff20example.org",
    "nul": "ann\x00@example.org",
    "reserved-domain": "ann@localhost.localdomain.test",
}


def test_malformed_emails_are_refused(app: Flask, web: WebClient, subtests) -> None:
    for case, email in MALFORMED_EMAILS.items():
        with subtests.test(case):
            response = register(web, email)

            assert response.status_code == 422
            assert EMAIL_MESSAGE in errors_of(response, "email")
    assert_nothing_written(app)


def test_a_300_character_email_is_refused(app: Flask, web: WebClient) -> None:
    email = "a" * 288 + "@example.org"
    assert len(email) == 300

    response = register(web, email)

    assert response.status_code == 422
    assert "Field cannot be longer than 254 characters." in errors_of(response, "email")
    assert_nothing_written(app)


EMPTY_FORMS = {
    "all-empty": ({"email": "", "password": "", "confirm": ""}, ["email", "password", "confirm"]),
    "no-email": ({"email": "", "password": PASSWORD, "confirm": PASSWORD}, ["email"]),
    "no-password": (
        {"email": "ann@example.org", "password": "", "confirm": ""},
        ["password", "confirm"],
    ),
    "blank-email": ({"email": "   ", "password": PASSWORD, "confirm": PASSWORD}, ["email"]),
}


def test_empty_fields_are_refused(app: Flask, web: WebClient, subtests) -> None:
    for case, (data, fields) in EMPTY_FORMS.items():
        with subtests.test(case):
            response = web.submit("/auth/register", data)

            assert response.status_code == 422
            for field in fields:
                assert "This field is required." in errors_of(response, field)
    assert_nothing_written(app)


def test_a_missing_field_is_refused_not_an_error(app: Flask, web: WebClient) -> None:
    response = web.submit("/auth/register", {"email": "ann@example.org"})

    assert response.status_code == 422
    assert "This field is required." in errors_of(response, "password")
    assert_nothing_written(app)


def test_a_mismatched_confirmation_is_refused(app: Flask, web: WebClient) -> None:
    response = register(web, "ann@example.org", confirm=PASSWORD + "!")

    assert response.status_code == 422
    assert "The passwords do not match." in errors_of(response, "confirm")
    assert_nothing_written(app)


OVERSIZED_OR_INVALID = {
    "long-name": (
        {"display_name": "n" * 10_000},
        "display_name",
        "Field cannot be longer than 80 characters.",
    ),
    "long-password": (
        {"password": "p" * 10_000, "confirm": "p" * 10_000},
        "password",
        "Field must be between 8 and 256 characters long.",
    ),
    "long-email": (
        {"email": "e" * 10_000 + "@example.org"},
        "email",
        "Field cannot be longer than 254 characters.",
    ),
    "nul-in-name": (
        {"display_name": "Ann\x00Lee"},
        "display_name",
        "The name contains characters that are not allowed.",
    ),
    "control-in-name": (
        {"display_name": "Ann\x1bLee"},
        "display_name",
        "The name contains characters that are not allowed.",
    ),
}


def test_oversized_or_invalid_fields_are_refused_not_an_error(
    app: Flask, web: WebClient, subtests
) -> None:
    for case, (data, field, message) in OVERSIZED_OR_INVALID.items():
        with subtests.test(case):
            form = {"email": "ann@example.org", "password": PASSWORD, "confirm": PASSWORD, **data}
            response = web.submit("/auth/register", form)

            assert response.status_code == 422
            assert message in errors_of(response, field)
    assert_nothing_written(app)


def test_registering_again_in_another_case_is_a_conflict(app: Flask) -> None:
    first = WebClient(app)
    assert register(first, "Bob@x.org").status_code == 302

    second = WebClient(app)
    response = register(second, "bob@X.ORG", "another good passphrase")

    assert response.status_code == 409
    assert "An account with this email already exists." in errors_of(response, "email")
    assert count(app, User) == 1
    user = get_user(app, "bob@x.org")
    assert user is not None
    assert count(app, UserSession) == 1  # only the first browser's
    assert not is_signed_in(second)
    assert is_signed_in(first)
