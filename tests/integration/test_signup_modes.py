"""MIRADA_SIGNUP: open, verified (by a mailed link), invite (by an administrator), closed;
and sign-ups throttled per address (the report: 60 accounts in 6.6 s)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from mirada.cli import main
from mirada.db import SignupToken, User
from tests.integration.helpers import (
    PASSWORD,
    add_user,
    count,
    deliver_mail,
    errors_of,
    get_user,
    is_signed_in,
    signed_in,
    text,
)
from tests.support.mail import MailCatcher
from tests.support.web import WebClient

ANN = "ann@example.org"
ADMIN = "admin@example.org"
INVALID_LINK = "This link is invalid, used or expired."


def use(app: Flask, **changes: object) -> None:
    """Run the app with other settings (read on every request)."""
    settings = app.extensions["mirada.settings"]
    app.extensions["mirada.settings"] = settings.model_copy(update=changes)


def register(web: WebClient, email: str, password: str = PASSWORD, address: str = "192.0.2.1"):
    return web.submit(
        "/auth/register",
        {"email": email, "display_name": "Ann", "password": password, "confirm": password},
        environ_base={"REMOTE_ADDR": address},
    )


def path_of(link: str) -> str:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8000")
    return parts.path


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


# --- closed -----------------------------------------------------------------------------


def test_closed_has_no_sign_up_page(app: Flask, web: WebClient) -> None:
    use(app, signup="closed")

    assert web.get("/auth/register").status_code == 404
    posted = web.submit(
        "/auth/login", {"email": ANN, "password": PASSWORD}, action="/auth/register"
    )
    assert posted.status_code == 404
    assert "/auth/register" not in web.get("/").get_data(as_text=True)
    assert "/auth/register" not in web.get("/auth/login").get_data(as_text=True)
    assert count(app, User) == 0


# --- invite -----------------------------------------------------------------------------


def invite_on_the_page(admin: WebClient, email: str):
    return admin.submit("/admin/invitations", {"email": email})


def link_on(response) -> str:
    match = re.search(r'<code class="invitation-link">([^<]+)</code>', text(response))
    assert match, "no invitation link on the page"
    return match.group(1)


def test_invite_only_refuses_the_open_form(app: Flask, web: WebClient) -> None:
    use(app, signup="invite")

    page = web.get("/auth/register")
    posted = register(web, ANN)

    assert page.status_code == posted.status_code == 403
    assert "Accounts here are made by invitation only." in text(page)
    assert count(app, User) == 0


def test_an_administrator_invites_and_the_invitation_makes_one_account(app: Flask) -> None:
    use(app, signup="invite")
    add_user(app, ADMIN, admin=True)
    add_user(app, "bob@example.org")
    admin = signed_in(app, ADMIN)
    assert signed_in(app, "bob@example.org").get("/admin/invitations").status_code == 403

    made = invite_on_the_page(admin, "Ann@Example.org")
    taken = invite_on_the_page(admin, "bob@example.org")

    assert made.status_code == 200
    assert taken.status_code == 409
    assert "An account with this email already exists." in errors_of(taken, "email")
    path = path_of(link_on(made))
    guest = WebClient(app)
    form = guest.get(path)
    assert form.status_code == 200
    assert ANN in text(form)
    weak = guest.submit(path, {"password": "password", "confirm": "password"})
    assert weak.status_code == 422
    created = guest.submit(path, {"password": PASSWORD, "confirm": PASSWORD, "display_name": "A"})
    assert created.status_code == 302
    assert is_signed_in(guest)
    user = get_user(app, ANN)
    assert user is not None and user.display_name == "A"
    again = WebClient(app).submit(path, {"password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 410
    assert INVALID_LINK in text(again)
    assert count(app, User) == 3


def test_the_command_line_prints_an_invitation_link(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    use(app, signup="closed")  # invitations work whatever the mode

    result = CliRunner().invoke(
        main, ["users", "invite", ANN], obj=ScriptInfo(create_app=lambda: app)
    )

    assert result.exit_code == 0, result.output
    path = path_of(result.output.strip())
    guest = WebClient(app)
    assert guest.submit(path, {"password": PASSWORD, "confirm": PASSWORD}).status_code == 302
    assert get_user(app, ANN) is not None
    refused = CliRunner().invoke(
        main, ["users", "invite", ANN], obj=ScriptInfo(create_app=lambda: app)
    )
    assert refused.exit_code == 1
    assert "An account with this email already exists." in refused.output


def test_an_expired_or_made_up_invitation_is_refused(app: Flask, web: WebClient) -> None:
    for token in ("nonsense", "x" * 500):
        response = web.get(f"/auth/invitation/{token}")
        assert response.status_code == 410
        assert INVALID_LINK in text(response)


# --- verified ---------------------------------------------------------------------------


def test_verified_the_account_exists_only_once_the_link_is_opened_with_its_password(
    app: Flask, mail_catcher: MailCatcher
) -> None:
    use(app, signup="verified")
    web = WebClient(app)

    response = register(web, ANN)
    deliver_mail(app)

    assert response.status_code == 200
    assert "Check your mail" in text(response)
    assert count(app, User) == 0
    assert not is_signed_in(web)
    path = path_of(mail_catcher.last_link(ANN))
    assert path.startswith("/auth/confirm/")
    stranger = WebClient(app)  # whoever opens the link must know the password chosen
    assert stranger.get(path).status_code == 200
    wrong = stranger.submit(path, {"password": "not the password chosen"})
    assert wrong.status_code == 401
    assert "This is not the password you chose." in errors_of(wrong, "password")
    assert count(app, User) == 0

    confirmed = web.submit(path, {"password": PASSWORD})

    assert confirmed.status_code == 302
    assert is_signed_in(web)
    user = get_user(app, ANN)
    assert user is not None and user.display_name == "Ann"
    assert WebClient(app).get(path).status_code == 410
    assert count(app, SignupToken, SignupToken.used_at.is_(None)) == 0


def test_verified_does_not_tell_whether_the_address_has_an_account(
    app: Flask, mail_catcher: MailCatcher
) -> None:
    """The leak: registering a taken address answered 409 "already exists"."""
    use(app, signup="verified")
    add_user(app, ANN)
    before = get_user(app, ANN)

    taken = register(WebClient(app), ANN)
    fresh = register(WebClient(app), "new@example.org")
    deliver_mail(app)

    assert taken.status_code == fresh.status_code == 200
    assert without_csrf(text(taken)) == without_csrf(text(fresh))
    [warning] = mail_catcher.messages_to(ANN)
    assert warning["Subject"] == "Someone tried to create a Mirada account with your address"
    assert count(app, SignupToken, SignupToken.email == ANN) == 0
    after = get_user(app, ANN)
    assert after is not None and before is not None
    assert after.password_hash == before.password_hash
    assert WebClient(app).login(ANN, PASSWORD).status_code == 302


def test_verified_mails_one_address_a_bounded_number_of_times(
    app: Flask, mail_catcher: MailCatcher
) -> None:
    """The attack: twelve sign-ups with Bob's address from one place mailed Bob twelve
    warnings in seconds (and from many places, as many as there were places)."""
    use(app, signup="verified")
    add_user(app, ANN)
    limit = app.extensions["mirada.settings"].reset_requests_per_account

    answers = [register(WebClient(app), ANN, address=f"198.51.100.{i}") for i in range(8)]
    deliver_mail(app)

    assert {a.status_code for a in answers} == {200}  # the same answer, mail or not
    assert len(mail_catcher.messages_to(ANN)) == limit < 8


def test_verified_still_checks_the_password_on_the_form(app: Flask) -> None:
    use(app, signup="verified")

    response = register(WebClient(app), ANN, password="password1234")

    assert response.status_code == 422
    assert count(app, SignupToken) == 0


# --- throttling ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["open", "verified"])
def test_sign_ups_are_throttled_per_address(app: Flask, mode: str) -> None:
    use(app, signup=mode, signups_per_address=2)
    for i in range(2):
        assert register(WebClient(app), f"u{i}@example.org").status_code in (200, 302)

    refused = register(WebClient(app), "u2@example.org")
    elsewhere = register(WebClient(app), "u3@example.org", address="198.51.100.4")

    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Too many requests. Try again in 60 minutes." in text(refused)
    assert elsewhere.status_code in (200, 302)
    assert count(app, User, User.email == "u2@example.org") == 0
