"""The account page: profile, language, password change and deletion."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from mirada.db import User
from tests.integration.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    count,
    errors_of,
    flashes_of,
    get_user,
    is_signed_in,
    signed_in,
    text,
)
from tests.support.web import WebClient

ALICE = "alice@example.org"
WRONG_CURRENT = "The current password is wrong."


@pytest.fixture
def alice(app: Flask) -> WebClient:
    add_user(app, ALICE, display_name="Alice")
    return signed_in(app, ALICE)


def html_lang(web: WebClient, path: str = "/") -> str:
    match = re.search(r'<html lang="([^"]*)">', web.get(path).get_data(as_text=True))
    assert match is not None
    return match.group(1)


def user(app: Flask) -> User:
    found = get_user(app, ALICE)
    assert found is not None
    return found


def save_profile(web: WebClient, display_name: str, locale: str):
    return web.submit(
        "/account/", {"display_name": display_name, "locale": locale}, action="/account/profile"
    )


def change_password(web: WebClient, current: str, new: str, confirm: str | None = None):
    return web.submit(
        "/account/",
        {
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
        action="/account/password",
    )


def test_the_account_page_shows_the_user(alice: WebClient) -> None:
    page = alice.get("/account/")

    assert page.status_code == 200
    body = text(page)
    assert ALICE in body


def test_the_account_page_needs_sign_in(web: WebClient) -> None:
    response = web.get("/account/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/account/"


def test_saving_the_profile_changes_name_and_language(app: Flask, alice: WebClient) -> None:
    assert html_lang(alice) == "en"

    response = save_profile(alice, "  Alice   Liddell ", "es")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert "Se guardó tu perfil." in text(alice.get("/account/"))  # said in the new language
    saved = user(app)
    assert saved.display_name == "Alice Liddell"
    assert saved.locale == "es"
    assert html_lang(alice) == "es"
    assert html_lang(alice, "/account/") == "es"
    assert "Alice Liddell" in text(alice.get("/"))


def test_the_browser_language_is_used_when_the_user_has_none(app: Flask, alice: WebClient) -> None:
    assert save_profile(alice, "Alice", "es").status_code == 302

    assert save_profile(alice, "Alice", "").status_code == 302

    assert user(app).locale is None
    assert html_lang(alice) == "en"
    page = alice.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert '<html lang="es">' in page.get_data(as_text=True)


INVALID_PROFILES = {
    "81-chars": ("n" * 81, "en", "display_name", "Field cannot be longer than 80 characters."),
    "10k-chars": ("n" * 10_000, "en", "display_name", "Field cannot be longer than 80 characters."),
    "nul": (
        "Bad\x00Name",
        "en",
        "display_name",
        "The name contains characters that are not allowed.",
    ),
    "unknown-locale": ("Alice", "fr", "locale", "Not a valid choice."),
    "huge-locale": ("Alice", "e" * 5000, "locale", "Not a valid choice."),
}


def test_an_invalid_profile_is_refused_and_nothing_changes(
    app: Flask, alice: WebClient, subtests
) -> None:
    for case, (display_name, locale, field, message) in INVALID_PROFILES.items():
        with subtests.test(case):
            response = save_profile(alice, display_name, locale)

            assert response.status_code == 422
            assert message in errors_of(response, field)
            saved = user(app)
            assert (saved.display_name, saved.locale) == ("Alice", None)


def test_the_language_switcher_changes_the_user_locale(app: Flask, alice: WebClient) -> None:
    response = alice.submit("/account/", {"locale": "es", "next": "/account/"}, action="/language")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert user(app).locale == "es"
    assert html_lang(alice) == "es"


def test_the_language_switcher_remembers_an_anonymous_choice(web: WebClient) -> None:
    response = web.submit("/", {"locale": "es", "next": "//evil.com"}, action="/language")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert web.client.get_cookie("mirada_lang").value == "es"
    assert html_lang(web) == "es"


def test_the_language_switcher_ignores_unknown_languages(web: WebClient) -> None:
    response = web.submit("/", {"locale": "xx", "next": "/auth/login"}, action="/language")

    assert response.status_code == 302
    assert web.client.get_cookie("mirada_lang") is None
    assert html_lang(web) == "en"


def test_changing_the_password(app: Flask, alice: WebClient) -> None:
    before = user(app).password_hash

    response = change_password(alice, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert (
        "Your password has been changed. Your other sessions have been signed out."
        in flashes_of(alice.get("/account/"))
    )
    assert user(app).password_hash != before
    assert WebClient(app).login(ALICE, PASSWORD).status_code == 401
    assert WebClient(app).login(ALICE, NEW_PASSWORD).status_code == 302


COMMON = "This password is too common. Choose one that is harder to guess."
LENGTH = "Field must be between 8 and 256 characters long."
REFUSED_CHANGES = {
    "wrong-current": ("not my password", NEW_PASSWORD, None, "current_password", WRONG_CURRENT),
    "no-current": ("", NEW_PASSWORD, None, "current_password", "This field is required."),
    "common": (PASSWORD, "qwertyuiop", None, "new_password", COMMON),
    "the-email": (PASSWORD, ALICE.upper(), None, "new_password", COMMON),
    "short": (PASSWORD, "short", None, "new_password", LENGTH),
    "huge": (PASSWORD, "n" * 10_000, None, "new_password", LENGTH),
    "mismatch": (
        PASSWORD,
        NEW_PASSWORD,
        "something else",
        "confirm",
        "The passwords do not match.",
    ),
}


def test_a_refused_password_change_changes_nothing(app: Flask, alice: WebClient, subtests) -> None:
    other = signed_in(app, ALICE)
    before = user(app).password_hash
    for case, (current, new, confirm, field, message) in REFUSED_CHANGES.items():
        with subtests.test(case):
            response = change_password(alice, current, new, confirm)

            assert response.status_code == 422
            assert message in errors_of(response, field)
            assert user(app).password_hash == before
    assert is_signed_in(other)
    assert is_signed_in(alice)


def test_deleting_the_account_needs_the_right_password(app: Flask, alice: WebClient) -> None:
    for password in ("not my password", ""):
        response = alice.submit("/account/", {"password": password}, action="/account/delete")
        assert response.status_code == 422
        assert errors_of(response, "password")
    assert WRONG_CURRENT in errors_of(
        alice.submit("/account/", {"password": "not my password"}, action="/account/delete"),
        "password",
    )
    assert count(app, User) == 1
    assert is_signed_in(alice)
