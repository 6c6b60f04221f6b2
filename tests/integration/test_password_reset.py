"""Forgotten passwords: a single-use, expiring link sent over SMTP."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from mirada.db import PasswordResetToken, User, UserSession
from mirada.db.app_session import db
from mirada.db.base import utcnow
from mirada.services.mail import SmtpMailer
from mirada.web import create_app
from tests.conftest import make_settings
from tests.integration.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    add_user,
    count,
    deliver_mail,
    errors_of,
    flashes_of,
    get_user,
    is_signed_in,
    signed_in,
    text,
)
from tests.support.mail import MailCatcher
from tests.support.web import WebClient, csrf_token_in

ALICE = "alice@example.org"
SENT = (
    "If an account exists for that address, we have sent it a link to choose a new password. "
    "Check your inbox."
)
INVALID = "This reset link is invalid, used or expired. Ask for a new one."


def ask_for_link(web: WebClient, email: str):
    """Ask for a link, and wait until its mail (sent in the background) has left."""
    response = web.submit("/auth/forgot", {"email": email})
    deliver_mail(web.app)
    return response


def reset_path(mail_catcher: MailCatcher, email: str) -> str:
    link = urlsplit(mail_catcher.last_link(email))
    assert (link.scheme, link.netloc) == ("http", "127.0.0.1:8000")  # never the request's Host
    assert link.path.startswith("/auth/reset/")
    return link.path


def choose(web: WebClient, path: str, password: str, confirm: str | None = None):
    return web.submit(
        path, {"password": password, "confirm": password if confirm is None else confirm}
    )


def password_hash(app: Flask, email: str = ALICE) -> str:
    user = get_user(app, email)
    assert user is not None
    return user.password_hash


def test_the_link_arrives_by_mail_and_sets_a_new_password(
    app: Flask, web: WebClient, mail_catcher: MailCatcher
) -> None:
    add_user(app, ALICE)

    response = ask_for_link(web, "Alice@Example.org")

    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert SENT in flashes_of(web.get("/auth/login"))
    [message] = mail_catcher.messages_to(ALICE)
    assert message["Subject"] == "Reset your Mirada password"
    assert message["From"] == app.extensions["mirada.settings"].mail_sender
    assert "within 60 minutes" in message.get_body(preferencelist=("plain",)).get_content()
    path = reset_path(mail_catcher, ALICE)
    token = path.removeprefix("/auth/reset/")
    with app.app_context():  # only a hash of the token is stored
        assert token not in db.session.scalars(select(PasswordResetToken.token_hash)).all()

    form = web.get(path)
    assert form.status_code == 200
    assert 'name="confirm"' in form.get_data(as_text=True)
    done = choose(web, path, NEW_PASSWORD)

    assert done.status_code == 302
    assert done.headers["Location"] == "/auth/login"
    assert "Your password has been changed. Sign in with the new one." in flashes_of(
        web.get("/auth/login")
    )
    assert WebClient(app).login(ALICE, PASSWORD).status_code == 401
    assert WebClient(app).login(ALICE, NEW_PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(PasswordResetToken.used_at)).one() is not None


def test_the_link_works_only_once(app: Flask, web: WebClient, mail_catcher: MailCatcher) -> None:
    add_user(app, ALICE)
    ask_for_link(web, ALICE)
    path = reset_path(mail_catcher, ALICE)
    assert choose(web, path, NEW_PASSWORD).status_code == 302
    after_first_use = password_hash(app)

    again = web.get(path)
    reuse = choose(WebClient(app), path, "yet another passphrase")

    assert again.status_code == 410
    assert INVALID in text(again)
    assert reuse.status_code == 410
    assert INVALID in text(reuse)
    assert password_hash(app) == after_first_use


def test_an_expired_link_is_refused(app: Flask, web: WebClient, mail_catcher: MailCatcher) -> None:
    add_user(app, ALICE)
    before = password_hash(app)
    ask_for_link(web, ALICE)
    path = reset_path(mail_catcher, ALICE)
    form_page = web.get(path)
    assert form_page.status_code == 200
    with app.app_context():
        db.session.execute(
            update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    opened = web.get(path)
    submitted = web.client.post(
        path,
        data={
            "csrf_token": csrf_token_in(form_page.get_data(as_text=True)),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )

    assert opened.status_code == 410
    assert INVALID in text(opened)
    assert submitted.status_code == 410
    assert password_hash(app) == before


def test_an_unknown_or_made_up_link_is_refused(app: Flask, web: WebClient) -> None:
    for token in ("nonsense", "x" * 2000, "%00"):
        response = web.get(f"/auth/reset/{token}")
        assert response.status_code == 410, token
        assert INVALID in text(response)


def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    app: Flask, mail_catcher: MailCatcher
) -> None:
    add_user(app, ALICE)
    known_browser, unknown_browser = WebClient(app), WebClient(app)

    known = ask_for_link(known_browser, ALICE)
    unknown = ask_for_link(unknown_browser, "nobody@example.org")

    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert (
        flashes_of(known_browser.get("/auth/login"))
        == flashes_of(unknown_browser.get("/auth/login"))
        == [SENT]
    )
    assert mail_catcher.messages_to("nobody@example.org") == []
    assert len(mail_catcher.messages) == 1
    assert count(app, PasswordResetToken) == 1


def test_a_disabled_account_gets_no_mail(app: Flask, web: WebClient, mail_catcher) -> None:
    add_user(app, ALICE, active=False)

    response = ask_for_link(web, ALICE)

    assert response.status_code == 302
    assert SENT in flashes_of(web.get("/auth/login"))
    assert mail_catcher.messages == []
    assert count(app, PasswordResetToken) == 0


def test_a_malformed_email_is_refused_on_the_form(app: Flask, web: WebClient, mail_catcher) -> None:
    empty = ask_for_link(web, "")
    assert empty.status_code == 422
    assert "This field is required." in errors_of(empty, "email")
    garbage = ask_for_link(web, "not an email\x00")
    assert garbage.status_code == 302  # same answer as for an unknown address
    assert mail_catcher.messages == []


def test_a_weak_new_password_is_refused_and_the_link_still_works(
    app: Flask, web: WebClient, mail_catcher: MailCatcher
) -> None:
    add_user(app, ALICE)
    before = password_hash(app)
    ask_for_link(web, ALICE)
    path = reset_path(mail_catcher, ALICE)

    common = choose(web, path, "password1234")
    short = choose(web, path, "short")
    the_email = choose(web, path, ALICE)
    mismatch = choose(web, path, NEW_PASSWORD, NEW_PASSWORD + "!")

    for response in (common, short, the_email, mismatch):
        assert response.status_code == 422
    assert "This password is too common. Choose one that is harder to guess." in errors_of(
        common, "password"
    )
    assert "This password is too common. Choose one that is harder to guess." in errors_of(
        the_email, "password"
    )
    assert "Field must be between 8 and 256 characters long." in errors_of(short, "password")
    assert "The passwords do not match." in errors_of(mismatch, "confirm")
    assert password_hash(app) == before
    assert web.get(path).status_code == 200
    assert choose(web, path, NEW_PASSWORD).status_code == 302
    assert password_hash(app) != before


def test_a_reset_ends_every_session_of_the_user(app: Flask, mail_catcher: MailCatcher) -> None:
    user_id = add_user(app, ALICE)
    bob_id = add_user(app, "bob@example.org")
    phone, laptop = signed_in(app, ALICE), signed_in(app, ALICE)
    bob = signed_in(app, "bob@example.org")
    ask_for_link(laptop, ALICE)

    response = choose(laptop, reset_path(mail_catcher, ALICE), NEW_PASSWORD)

    assert response.status_code == 302
    assert count(app, UserSession, UserSession.user_id == user_id) == 0
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert count(app, UserSession, UserSession.user_id == bob_id) == 1
    assert is_signed_in(bob)


def test_using_a_link_spends_the_older_ones_too(
    app: Flask, web: WebClient, mail_catcher: MailCatcher
) -> None:
    add_user(app, ALICE)
    ask_for_link(web, ALICE)
    older = reset_path(mail_catcher, ALICE)
    ask_for_link(web, ALICE)
    newer = reset_path(mail_catcher, ALICE)
    assert older != newer

    assert choose(web, newer, NEW_PASSWORD).status_code == 302

    assert web.get(older).status_code == 410
    with app.app_context():
        assert all(db.session.scalars(select(PasswordResetToken.used_at)).all())
    assert count(app, User) == 1


def test_without_a_mail_server_the_spanish_mail_is_logged_readably(
    tmp_path, model_path, caplog
) -> None:
    database_url = f"sqlite:///{tmp_path / 'log-mode.sqlite3'}"
    app = create_app(make_settings(tmp_path, database_url, mail_server="", model_path=model_path))
    with app.app_context():
        db.create_all()
    try:
        add_user(app, ALICE)
        web = WebClient(app)
        with caplog.at_level(logging.WARNING, logger="mirada.services.mail"):
            response = web.submit(
                "/auth/forgot", {"email": ALICE}, headers={"Accept-Language": "es"}
            )
            deliver_mail(app)

        assert response.status_code == 302
        [record] = [r for r in caplog.records if r.name == "mirada.services.mail"]
        logged = record.getMessage()
        assert f"To: {ALICE}" in logged
        assert "Subject: Restablece tu contraseña de Mirada" in logged
        assert "Alguien solicitó restablecer la contraseña de tu cuenta de Mirada." in logged
        assert "=C3" not in logged and "=\n" not in logged
        link = re.findall(r"http://127.0.0.1:8000/auth/reset/\S+", logged)[-1]
        assert web.get(urlsplit(link).path).status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_forged_host_header_does_not_reach_the_link(
    app: Flask, web: WebClient, mail_catcher: MailCatcher
) -> None:
    """The attack: with MIRADA_BASE_URL empty, ``Host: attacker.example`` got a live token
    mailed as ``http://attacker.example/auth/reset/...``."""
    add_user(app, ALICE)
    forged = {"base_url": "http://attacker.example"}  # the Host header the request carries

    def ask_as_attacker() -> TestResponse:
        page = web.client.get("/auth/forgot", **forged).get_data(as_text=True)
        data = {"email": ALICE, "csrf_token": csrf_token_in(page)}
        response = web.client.post("/auth/forgot", data=data, **forged)
        deliver_mail(app)
        return response

    response = ask_as_attacker()

    assert response.status_code == 302
    assert urlsplit(mail_catcher.last_link(ALICE)).netloc == "127.0.0.1:8000"
    app.extensions["mirada.settings"] = app.extensions["mirada.settings"].model_copy(
        update={"base_url": "https://mirada.example.org/"}
    )
    assert ask_as_attacker().status_code == 302
    assert mail_catcher.last_link(ALICE).startswith("https://mirada.example.org/auth/reset/")
    assert all("attacker" not in str(m) for m in mail_catcher.messages)


def test_with_trusted_hosts_another_host_is_refused(
    tmp_path: Path, database_url: str, mail_catcher: MailCatcher, model_path: Path
) -> None:
    """MIRADA_TRUSTED_HOSTS (Flask's TRUSTED_HOSTS): links may use the request's host only
    because any other host is answered 400 before a view runs."""
    settings = make_settings(
        tmp_path,
        database_url,
        mail_server="127.0.0.1",
        mail_port=mail_catcher.port,
        model_path=model_path,
        trusted_hosts="mirada.example.org",
    )
    trusted = create_app(settings)
    with trusted.app_context():
        db.create_all()
    try:
        add_user(trusted, ALICE)
        web = WebClient(trusted)
        good = {"base_url": "http://mirada.example.org"}

        forged = web.client.get("/auth/forgot", headers={"Host": "attacker.example"})
        page = web.client.get("/auth/forgot", **good)
        sent = web.client.post(
            "/auth/forgot",
            data={"email": ALICE, "csrf_token": csrf_token_in(page.get_data(as_text=True))},
            **good,
        )
        deliver_mail(trusted)

        assert forged.status_code == 400
        assert "does not answer to that host name" in forged.get_data(as_text=True)
        assert sent.status_code == 302
        link = mail_catcher.last_link(ALICE)
        assert link.startswith("http://mirada.example.org/auth/reset/")
    finally:
        with trusted.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_changing_the_password_spends_the_links_asked_for_before(
    app: Flask, mail_catcher: MailCatcher
) -> None:
    """The attack: a link requested before a password change still reset the password."""
    add_user(app, ALICE)
    alice = signed_in(app, ALICE)
    ask_for_link(WebClient(app), ALICE)
    path = reset_path(mail_catcher, ALICE)

    changed = alice.submit(
        "/account/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        action="/account/password",
    )

    assert changed.status_code == 302
    stale = WebClient(app)
    assert stale.get(path).status_code == 410
    assert choose(stale, path, "the attacker's passphrase").status_code == 410
    assert WebClient(app).login(ALICE, NEW_PASSWORD).status_code == 302


class GatedMailServer(MailCatcher):
    """An SMTP server that holds every message until ``gate`` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.gate.wait(timeout=60)
        return await super().handle_DATA(server, session, envelope)


def test_the_mail_leaves_in_the_background(app: Flask, web: WebClient) -> None:
    """The leak: /auth/forgot took 15.9 ms for an account and 8.6 ms for none, because it
    wrote the link and waited for SMTP. Now the account is looked up, the link written and
    mailed in the background: the answer comes while the SMTP server still holds the mail."""
    add_user(app, ALICE)
    slow = GatedMailServer()
    slow.start()
    try:
        app.extensions["mirada.mailer"] = SmtpMailer(
            app.extensions["mirada.settings"].model_copy(update={"mail_port": slow.port})
        )

        response = web.submit("/auth/forgot", {"email": ALICE})

        assert response.status_code == 302
        assert slow.messages == []  # answered while the SMTP server still holds the mail
        slow.gate.set()
        deliver_mail(app)
        assert len(slow.messages_to(ALICE)) == 1
        assert count(app, PasswordResetToken) == 1
    finally:
        slow.gate.set()
        deliver_mail(app)
        slow.stop()


def test_reset_mails_are_throttled_per_address_and_per_recipient(
    app: Flask, mail_catcher: MailCatcher
) -> None:
    """The attack: 40 reset mails in 0.6 s from one client."""
    add_user(app, ALICE)
    settings = app.extensions["mirada.settings"]
    per_recipient = settings.reset_requests_per_account
    per_address = settings.reset_requests_per_address
    assert per_recipient < per_address

    def ask(email: str, address: str):
        return WebClient(app).submit(
            "/auth/forgot", {"email": email}, environ_base={"REMOTE_ADDR": address}
        )

    for i in range(per_recipient):
        assert ask(ALICE, f"192.0.2.{i}").status_code == 302
    to_alice = ask(ALICE, "192.0.2.200")
    to_nobody = [ask("nobody@example.org", f"198.51.100.{i}") for i in range(per_recipient + 1)]
    sprayed = [ask(f"u{i}@example.org", "203.0.113.9") for i in range(per_address + 1)]
    deliver_mail(app)

    assert to_alice.status_code == 429  # the same answer whether the account exists ...
    assert [r.status_code for r in to_nobody][-1] == 429  # ... or not
    assert 0 < int(to_alice.headers["Retry-After"]) <= settings.request_window_s
    assert "Too many requests. Try again in 60 minutes." in text(to_alice)
    assert [r.status_code for r in sprayed] == [302] * per_address + [429]
    assert len(mail_catcher.messages_to(ALICE)) == per_recipient
