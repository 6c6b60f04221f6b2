"""Slowing down password guessing, per account and per address, without locking out the owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from mirada.config import Settings
from mirada.db import AuthThrottle, UserSession
from mirada.db.app_session import db
from mirada.db.base import utcnow
from tests.integration.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    count,
    form_errors_of,
    get_user,
    is_signed_in,
    signed_in,
)
from tests.support.web import WebClient

ALICE = "alice@example.org"
ATTACKER = "203.0.113.66"
WRONG = "not the password at all"


def settings(app: Flask) -> Settings:
    return app.extensions["mirada.settings"]


def change_settings(app: Flask, **changes: object) -> Settings:
    """Run the app with other limits (read on every request)."""
    app.extensions["mirada.settings"] = settings(app).model_copy(update=changes)
    return settings(app)


@pytest.fixture(autouse=True)
def small_limits(app: Flask) -> None:
    """Lower limits than the defaults: every failure costs a real argon2 verification."""
    change_settings(app, login_failures_per_account=3, login_failures_per_address=4)


def attempt(web: WebClient, email: str, password: str, address: str):
    return web.submit(
        "/auth/login",
        {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail_n_times(app: Flask, email: str, n: int, address: str = ATTACKER) -> None:
    attacker = WebClient(app)
    for i in range(n):
        response = attempt(attacker, email, f"{WRONG} {i}", address)
        assert response.status_code == 401, f"attempt {i + 1}"


def assert_throttled(response, window_s: int) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= window_s
    assert form_errors_of(response)[0].startswith("Too many failed attempts. Try again in ")


def expire_windows(app: Flask) -> None:
    """Move every counter's window into the past, as if the window had passed."""
    past = utcnow() - timedelta(seconds=settings(app).login_window_s + 1)
    with app.app_context():
        db.session.execute(update(AuthThrottle).values(window_start=past))
        db.session.commit()


def failures(app: Flask, key_prefix: str) -> dict[str, int]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuthThrottle).where(AuthThrottle.key.startswith(key_prefix))
        )
        return {row.key: row.failures for row in rows if row.failures}


def test_an_account_is_throttled_from_every_new_address(app: Flask) -> None:
    add_user(app, ALICE)
    limit = settings(app).login_failures_per_account
    fail_n_times(app, ALICE, limit)

    response = attempt(WebClient(app), ALICE, PASSWORD, "198.51.100.7")

    assert_throttled(response, settings(app).login_window_s)
    assert count(app, UserSession) == 0
    assert failures(app, "acct:") == {f"acct:{ALICE}": limit}


def test_the_throttle_does_not_say_whether_the_account_exists(app: Flask) -> None:
    limit = settings(app).login_failures_per_account
    fail_n_times(app, "nobody@example.org", limit)

    response = attempt(WebClient(app), "nobody@example.org", PASSWORD, "198.51.100.7")

    assert_throttled(response, settings(app).login_window_s)


def test_a_browser_that_signed_in_before_is_not_locked_out(app: Flask) -> None:
    add_user(app, ALICE)
    owner = WebClient(app)
    assert attempt(owner, ALICE, PASSWORD, "192.0.2.10").status_code == 302
    assert owner.client.get_cookie("mirada_device") is not None
    assert owner.logout().status_code == 302
    limit = settings(app).login_failures_per_account
    fail_n_times(app, ALICE, limit)
    stranger = attempt(WebClient(app), ALICE, PASSWORD, "192.0.2.10")
    assert stranger.status_code == 429

    response = attempt(owner, ALICE, PASSWORD, "192.0.2.10")

    assert response.status_code == 302
    assert is_signed_in(owner)


def test_a_known_browser_is_still_limited_for_its_own_failures(app: Flask) -> None:
    add_user(app, ALICE)
    change_settings(app, login_failures_per_account=2)
    owner = WebClient(app)
    assert attempt(owner, ALICE, PASSWORD, "192.0.2.10").status_code == 302
    owner.logout()

    for _ in range(2):
        assert attempt(owner, ALICE, WRONG, "192.0.2.10").status_code == 401
    response = attempt(owner, ALICE, PASSWORD, "192.0.2.10")

    assert_throttled(response, settings(app).login_window_s)
    assert not is_signed_in(owner)


def test_a_device_cookie_from_another_account_does_not_help(app: Flask) -> None:
    add_user(app, ALICE)
    add_user(app, "mallory@example.org")
    mallory = WebClient(app)
    assert attempt(mallory, "mallory@example.org", PASSWORD, ATTACKER).status_code == 302
    mallory.logout()
    fail_n_times(app, ALICE, settings(app).login_failures_per_account, address="192.0.2.99")

    response = attempt(mallory, ALICE, PASSWORD, ATTACKER)

    assert response.status_code == 429


def test_an_address_is_throttled_across_accounts(app: Flask) -> None:
    add_user(app, ALICE)
    limit = change_settings(app, login_failures_per_address=2).login_failures_per_address
    assert limit < settings(app).login_failures_per_account
    attacker = WebClient(app)
    for i in range(limit):
        assert attempt(attacker, f"user{i}@example.org", WRONG, ATTACKER).status_code == 401

    response = attempt(attacker, ALICE, PASSWORD, ATTACKER)

    assert_throttled(response, settings(app).login_window_s)
    assert count(app, UserSession) == 0
    elsewhere = attempt(WebClient(app), ALICE, PASSWORD, "198.51.100.7")
    assert elsewhere.status_code == 302


def test_the_end_of_the_window_resets_the_counters(app: Flask) -> None:
    add_user(app, ALICE)
    limit = settings(app).login_failures_per_account
    fail_n_times(app, ALICE, limit)
    assert attempt(WebClient(app), ALICE, PASSWORD, "198.51.100.7").status_code == 429

    expire_windows(app)

    wrong = attempt(WebClient(app), ALICE, WRONG, ATTACKER)
    assert wrong.status_code == 401  # not 429: a new window, counted from one
    assert failures(app, "acct:") == {f"acct:{ALICE}": 1}
    assert failures(app, "ip:") == {f"ip:{ATTACKER}": 1}
    right = attempt(WebClient(app), ALICE, PASSWORD, "198.51.100.7")
    assert right.status_code == 302
    assert failures(app, "acct:") == {}  # a successful sign-in forgets the account's failures


def test_a_successful_sign_in_forgets_the_account_failures(app: Flask) -> None:
    add_user(app, ALICE)
    change_settings(app, login_failures_per_account=2)
    fail_n_times(app, ALICE, 1)
    assert attempt(WebClient(app), ALICE, PASSWORD, "198.51.100.7").status_code == 302

    fail_n_times(app, ALICE, 1)

    assert attempt(WebClient(app), ALICE, PASSWORD, "198.51.100.8").status_code == 302


def test_an_address_flood_does_not_lock_out_a_known_device(app: Flask) -> None:
    """The attack: 20 failures from one address against random emails answered 429 to every
    user behind it (a school's NAT, a proxy), known devices included."""
    add_user(app, ALICE)
    owner = WebClient(app)
    assert attempt(owner, ALICE, PASSWORD, ATTACKER).status_code == 302
    owner.logout()
    attacker = WebClient(app)
    limit = settings(app).login_failures_per_address
    for i in range(limit):
        assert attempt(attacker, f"user{i}@example.org", WRONG, ATTACKER).status_code == 401
    assert attempt(attacker, "more@example.org", WRONG, ATTACKER).status_code == 429

    response = attempt(owner, ALICE, PASSWORD, ATTACKER)

    assert response.status_code == 302
    assert is_signed_in(owner)
    assert failures(app, "ip:") == {f"ip:{ATTACKER}": limit}


def test_signing_in_correctly_from_a_shared_address_uses_up_nothing(app: Flask) -> None:
    """Many people behind one address who sign in correctly never add up to a lockout."""
    limit = settings(app).login_failures_per_address
    for i in range(limit + 2):
        add_user(app, f"pupil{i}@example.org")
        assert (
            attempt(WebClient(app), f"pupil{i}@example.org", PASSWORD, ATTACKER).status_code == 302
        )

    assert failures(app, "ip:") == {}


def reenter(web: WebClient, action: str, password: str):
    field = "current_password" if action == "password" else "password"
    data = {field: password, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return web.submit("/account/", data, action=f"/account/{action}")


@pytest.mark.parametrize("action", ["password", "delete"])
def test_re_entering_the_password_is_throttled(app: Flask, action: str) -> None:
    """The attack: a stolen session guessed the password on /account/password and
    /account/delete without limit (40 wrong guesses in 6 s)."""
    add_user(app, ALICE)
    thief = signed_in(app, ALICE)
    limit = settings(app).login_failures_per_account
    for i in range(limit):
        assert reenter(thief, action, f"{WRONG} {i}").status_code == 422

    response = reenter(thief, action, PASSWORD)

    assert_throttled(response, settings(app).login_window_s)
    assert get_user(app, ALICE) is not None
    assert WebClient(app).login(ALICE, PASSWORD).status_code == 302  # unchanged, not deleted
