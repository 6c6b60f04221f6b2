"""Administering accounts: who may, the paginated and searchable list, and the actions."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from mirada.db import User, UserSession
from mirada.db.app_session import db
from tests.integration.helpers import (
    PASSWORD,
    _password_hash,
    add_user,
    count,
    flashes_of,
    get_user,
    is_signed_in,
    signed_in,
    text,
)
from tests.support.web import WebClient

ROOT = "root@example.org"
BOB = "bob@example.org"
ACTIONS = ("disable", "enable", "promote", "demote")
SELF = "You cannot change your own account here; ask another administrator."


@pytest.fixture
def root(app: Flask) -> WebClient:
    add_user(app, ROOT, admin=True)
    return signed_in(app, ROOT)


@pytest.fixture
def bob_id(app: Flask) -> int:
    return add_user(app, BOB)


def listed_emails(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<td data-label="Email">([^<]*)</td>', text(response))


def act(web: WebClient, user_id: int, action: str, **data: str):
    return web.submit("/", data, action=f"/admin/users/{user_id}/{action}")


def state(app: Flask, email: str) -> tuple[bool, bool]:
    user = get_user(app, email)
    assert user is not None
    return user.is_active, user.is_admin


def add_many(app: Flask, emails: list[str]) -> None:
    """Many accounts at once, sharing one real password hash."""
    with app.app_context():
        db.session.add_all(User(email=e, password_hash=_password_hash(PASSWORD)) for e in emails)
        db.session.commit()


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, web: WebClient, bob_id: int) -> None:
    listing = web.get("/admin/users?q=bob")
    action = act(web, bob_id, "disable")

    assert listing.status_code == 302
    assert listing.headers["Location"] == "/auth/login?next=/admin/users?q%3Dbob"
    assert action.status_code == 302
    assert action.headers["Location"].startswith("/auth/login?next=")
    assert state(app, BOB) == (True, False)


def test_users_who_are_not_administrators_are_refused(app: Flask, bob_id: int) -> None:
    other_id = add_user(app, "carol@example.org")
    bob = signed_in(app, BOB)

    listing = bob.get("/admin/users")
    assert listing.status_code == 403
    assert "You do not have permission to see this page." in text(listing)
    for action in ACTIONS:
        for target in (other_id, bob_id):
            assert act(bob, target, action).status_code == 403, (action, target)
    assert state(app, "carol@example.org") == (True, False)
    assert state(app, BOB) == (True, False)


def test_the_list_is_paginated_newest_first(app: Flask, root: WebClient) -> None:
    add_many(app, [f"user{i:02d}@example.org" for i in range(60)])
    newest_first = [f"user{i:02d}@example.org" for i in reversed(range(60))] + [ROOT]

    first, second, third = (root.get(f"/admin/users?page={n}") for n in (1, 2, 3))

    assert listed_emails(first) == newest_first[:25]
    assert listed_emails(second) == newest_first[25:50]
    assert listed_emails(third) == newest_first[50:]
    assert "Page 2 of 3" in text(second)
    assert "61 users" in text(second)
    assert 'href="/admin/users?page=1" rel="prev"' in text(second)
    assert 'href="/admin/users?page=3" rel="next"' in text(second)
    assert 'rel="next"' not in text(third)
    for beyond in ("4", "99999999999999999999"):
        assert listed_emails(root.get(f"/admin/users?page={beyond}")) == newest_first[50:]
    for before in ("0", "-3", "abc"):
        assert listed_emails(root.get(f"/admin/users?page={before}")) == newest_first[:25]


def test_search_is_a_case_insensitive_substring_of_email_or_name(
    app: Flask, root: WebClient
) -> None:
    add_many(app, [f"user{i:02d}@example.org" for i in range(30)])
    add_user(app, "someone@other.org", display_name="Ada LOVELACE")

    assert listed_emails(root.get("/admin/users?q=USER1")) == [
        f"user{i}@example.org" for i in range(19, 9, -1)
    ]
    assert listed_emails(root.get("/admin/users?q=Example.ORG")) == listed_emails(
        root.get("/admin/users?q=example.org")
    )
    assert listed_emails(root.get("/admin/users?q=lovelace")) == ["someone@other.org"]
    assert listed_emails(root.get("/admin/users?q=%20%20ada%20")) == ["someone@other.org"]
    assert listed_emails(root.get("/admin/users?q=nothing-like-this")) == []
    assert "0 users" in text(root.get("/admin/users?q=nothing-like-this"))
    assert listed_emails(root.get("/admin/users?q=a%00b")) == []


def test_percent_underscore_and_backslash_in_a_search_are_literal(
    app: Flask, root: WebClient
) -> None:
    add_many(app, ["a%b@example.org", "a_b@example.org", "axb@example.org", "aab@example.org"])
    add_user(app, "path@example.org", display_name="C:\\temp")

    assert listed_emails(root.get("/admin/users?q=%25")) == ["a%b@example.org"]
    assert listed_emails(root.get("/admin/users?q=_")) == ["a_b@example.org"]
    assert listed_emails(root.get("/admin/users?q=a_b")) == ["a_b@example.org"]
    assert listed_emails(root.get("/admin/users?q=a%25b")) == ["a%b@example.org"]
    assert listed_emails(root.get("/admin/users?q=%5C")) == ["path@example.org"]
    assert listed_emails(root.get("/admin/users?q=%5Ct")) == ["path@example.org"]


def test_disabling_signs_the_user_out_and_enabling_lets_them_back(
    app: Flask, root: WebClient, bob_id: int
) -> None:
    bob = signed_in(app, BOB)

    disabled = act(root, bob_id, "disable")

    assert disabled.status_code == 302
    assert disabled.headers["Location"] == "/admin/users"
    assert f"{BOB} is disabled and signed out." in flashes_of(root.get("/admin/users"))
    assert state(app, BOB) == (False, False)
    assert count(app, UserSession, UserSession.user_id == bob_id) == 0
    assert not is_signed_in(bob)
    assert bob.login(BOB).status_code == 403

    enabled = act(root, bob_id, "enable")

    assert enabled.status_code == 302
    assert f"{BOB} is enabled." in flashes_of(root.get("/admin/users"))
    assert state(app, BOB) == (True, False)
    assert bob.login(BOB).status_code == 302


def test_promoting_and_demoting(app: Flask, root: WebClient, bob_id: int) -> None:
    bob = signed_in(app, BOB)
    assert bob.get("/admin/users").status_code == 403

    assert act(root, bob_id, "promote").status_code == 302
    assert f"{BOB} is now an administrator." in flashes_of(root.get("/admin/users"))
    assert state(app, BOB) == (True, True)
    assert ROOT in listed_emails(bob.get("/admin/users"))

    assert act(root, bob_id, "demote").status_code == 302
    assert f"{BOB} is no longer an administrator." in flashes_of(root.get("/admin/users"))
    assert state(app, BOB) == (True, False)
    assert bob.get("/admin/users").status_code == 403


def test_an_administrator_cannot_act_on_themselves(app: Flask, root: WebClient) -> None:
    root_id = get_user(app, ROOT).id  # type: ignore[union-attr]
    for action in ACTIONS:
        response = act(root, root_id, action)
        assert response.status_code == 302
        assert SELF in flashes_of(root.get("/admin/users")), action
    assert state(app, ROOT) == (True, True)
    assert is_signed_in(root)


def test_the_action_returns_to_a_local_page_only(app: Flask, root: WebClient, bob_id: int) -> None:
    local = act(root, bob_id, "promote", next="/admin/users?q=bob&page=1")
    offsite = act(root, bob_id, "demote", next="//evil.com/admin/users")

    assert local.headers["Location"] == "/admin/users?q=bob&page=1"
    assert offsite.headers["Location"] == "/admin/users"


def test_an_unknown_user_is_not_found(app: Flask, root: WebClient, subtests) -> None:
    for user_id in ("9999", "0", "-1", "2147483648", "99999999999999999999"):
        with subtests.test(user_id):
            response = root.submit("/", {}, action=f"/admin/users/{user_id}/disable")

            assert response.status_code == 404
            assert '<p class="error-code">404</p>' in text(response)
    assert "No such user." in text(root.submit("/", {}, action="/admin/users/9999/disable"))


def test_an_unknown_action_is_not_found(app: Flask, root: WebClient, bob_id: int) -> None:
    for action in ("delete", "DISABLE", "__class__"):
        response = act(root, bob_id, action)
        assert response.status_code == 404, action
        assert "Page not found" in text(response)
    assert count(app, User) == 2
    assert state(app, BOB) == (True, False)


def test_an_action_address_does_not_answer_get(app: Flask, root: WebClient, bob_id: int) -> None:
    for action in ACTIONS:
        response = root.get(f"/admin/users/{bob_id}/{action}")
        assert response.status_code == 405, action
        assert "This address does not accept that kind of request." in text(response)
    assert state(app, BOB) == (True, False)
