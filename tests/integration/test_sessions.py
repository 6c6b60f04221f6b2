"""Server-side sessions: ending them on sign-out, password change, disabling and deletion."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from mirada.db import PasswordResetToken, User, UserSession
from mirada.db.app_session import db
from mirada.db.base import utcnow
from mirada.services import admin
from mirada.services.tokens import token_hash
from mirada.web.auth.mailing import mail_reset_link
from tests.integration.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    count,
    flashes_of,
    is_signed_in,
    session_cookie,
    signed_in,
)
from tests.support.web import WebClient

ALICE = "alice@example.org"
BOB = "bob@example.org"


def replay(app: Flask, cookie: str) -> WebClient:
    """A second browser carrying a copy of another's session cookie."""
    copy = WebClient(app)
    copy.client.set_cookie("mirada_session", cookie)
    return copy


def test_the_cookie_holds_only_a_token_whose_hash_is_stored(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)

    data = app.session_interface.get_signing_serializer(app).loads(session_cookie(web))

    token = data["sid"]
    with app.app_context():
        stored = db.session.scalars(select(UserSession.token_hash)).all()
    assert stored == [token_hash(token)]
    assert token not in stored


def test_signing_out_ends_the_session_on_the_server(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)
    cookie = session_cookie(web)
    assert is_signed_in(replay(app, cookie))  # the copy works while the session lives

    response = web.logout()

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert "You have signed out." in flashes_of(web.get("/auth/login"))
    assert count(app, UserSession) == 0
    assert not is_signed_in(web)
    assert not is_signed_in(replay(app, cookie))
    assert "Hello" not in replay(app, cookie).get("/").get_data(as_text=True)


def test_signing_out_leaves_other_browsers_signed_in(app: Flask) -> None:
    add_user(app, ALICE)
    phone, laptop = signed_in(app, ALICE), signed_in(app, ALICE)

    phone.logout()

    assert not is_signed_in(phone)
    assert is_signed_in(laptop)
    assert count(app, UserSession) == 1


def test_signing_in_again_replaces_the_session_token(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)
    first = session_cookie(web)
    web.logout()

    assert web.login(ALICE).status_code == 302

    assert session_cookie(web) != first
    assert not is_signed_in(replay(app, first))


def test_changing_the_password_ends_the_other_sessions_only(app: Flask) -> None:
    user_id = add_user(app, ALICE)
    add_user(app, BOB)
    current, other, bob = signed_in(app, ALICE), signed_in(app, ALICE), signed_in(app, BOB)

    response = current.submit(
        "/account/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        action="/account/password",
    )

    assert response.status_code == 302
    assert is_signed_in(current)
    assert not is_signed_in(other)
    assert is_signed_in(bob)
    assert count(app, UserSession, UserSession.user_id == user_id) == 1


def test_signing_out_the_other_browsers_keeps_this_one(app: Flask) -> None:
    user_id = add_user(app, ALICE)
    add_user(app, BOB)
    current, phone, laptop, bob = (signed_in(app, e) for e in (ALICE, ALICE, ALICE, BOB))

    response = current.submit("/account/", {}, action="/account/sessions/end-others")

    assert response.status_code == 302
    assert "2 other browsers have been signed out." in flashes_of(current.get("/account/"))
    assert is_signed_in(current)
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert is_signed_in(bob)
    assert count(app, UserSession, UserSession.user_id == user_id) == 1


def test_a_disabled_user_is_signed_out_on_the_next_request(app: Flask) -> None:
    user_id = add_user(app, ALICE)
    web = signed_in(app, ALICE)
    assert is_signed_in(web)

    with app.app_context():  # disabled behind the app's back: the session row stays
        db.session.execute(update(User).where(User.id == user_id).values(is_active=False))
        db.session.commit()

    assert count(app, UserSession) == 1
    assert not is_signed_in(web)


def test_disabling_a_user_deletes_its_sessions(app: Flask) -> None:
    admin_id = add_user(app, "root@example.org", admin=True)
    user_id = add_user(app, ALICE)
    web = signed_in(app, ALICE)

    with app.app_context():
        admin.set_active(
            session=db.session(),
            actor=db.session.get(User, admin_id),
            target=db.session.get(User, user_id),
            active=False,
        )
        db.session.commit()

    assert count(app, UserSession) == 0
    assert not is_signed_in(web)


def test_an_expired_session_is_anonymous(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)

    with app.app_context():
        db.session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    assert not is_signed_in(web)


def test_using_a_session_pushes_its_idle_expiry(app: Flask) -> None:
    add_user(app, ALICE)
    web = signed_in(app, ALICE)
    soon = utcnow() + timedelta(minutes=5)
    with app.app_context():
        db.session.execute(
            update(UserSession).values(
                expires_at=soon, last_seen_at=utcnow() - timedelta(minutes=30)
            )
        )
        db.session.commit()

    assert is_signed_in(web)

    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        hours = app.extensions["mirada.settings"].session_idle_hours
        assert row.expires_at > utcnow() + timedelta(hours=hours) - timedelta(minutes=1)


def test_deleting_the_account_removes_the_user_its_sessions_and_links(
    app: Flask, mail_catcher
) -> None:
    user_id = add_user(app, ALICE)
    bob_id = add_user(app, BOB)
    web, other, bob = signed_in(app, ALICE), signed_in(app, ALICE), signed_in(app, BOB)
    with app.test_request_context():
        for email in (ALICE, BOB):
            mail_reset_link(
                settings=app.extensions["mirada.settings"],
                mailer=app.extensions["mirada.mailer"],
                email=email,
                link_for=lambda t: t,
            )
    assert count(app, PasswordResetToken) == 2
    assert count(app, UserSession) == 3

    response = web.submit("/account/", {"password": PASSWORD}, action="/account/delete")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Your account and its data have been deleted." in flashes_of(web.get("/"))
    assert count(app, User, User.id == user_id) == 0
    assert count(app, UserSession, UserSession.user_id == user_id) == 0
    assert count(app, PasswordResetToken, PasswordResetToken.user_id == user_id) == 0
    assert not is_signed_in(web)
    assert not is_signed_in(other)
    # Someone else's account is untouched.
    assert count(app, User) == 1
    assert count(app, UserSession, UserSession.user_id == bob_id) == 1
    assert count(app, PasswordResetToken, PasswordResetToken.user_id == bob_id) == 1
    assert is_signed_in(bob)
    assert web.login(ALICE).status_code == 401
