"""Sign-ups by mail and by invitation, and reset links, on a plain SQLAlchemy session:
no Flask app; the letters are worded by a stand-in for the door's presenter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import PasswordResetToken, SignupToken, User
from mirada.services import accounts, password_reset, passwords, sessions, signups
from mirada.services.errors import Conflict, ServiceError, TooManyAttempts
from mirada.services.mail import Envelope, Letter

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
LIMITS = accounts.SignInLimits(per_account=2, per_address=3, window=timedelta(minutes=15))


class PlainLetters:
    """Letters that show what the service gave them to word."""

    def reset_password(self, *, link: str, minutes: int) -> Letter:
        return Letter(subject="reset", body=f"{link} {minutes}")

    def confirm_account(self, *, link: str, hours: int) -> Letter:
        return Letter(subject="confirm", body=f"{link} {hours}")

    def account_exists(self, *, sign_in_link: str) -> Letter:
        return Letter(subject="exists", body=sign_in_link)


def rows(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def link(token: str) -> str:
    return f"https://mirada.test/{token}"


def request_account(session: Session, settings: Settings, email: str) -> Envelope | None:
    request = signups.check_account_request(
        session=session,
        settings=settings,
        address="192.0.2.1",
        email=email,
        password=PASSWORD,
        display_name="Ann",
        locale="es",
    )
    return signups.request_account(
        session=session,
        settings=settings,
        letters=PlainLetters(),
        request=request,
        confirm_link=link,
        sign_in_link="https://mirada.test/login",
    )


def token_of(envelope: Envelope | None) -> str:
    assert envelope is not None
    return envelope.letter.body.split()[0].rsplit("/", 1)[1]


def test_a_confirmed_registration_becomes_the_account(
    session: Session, service_settings: Settings
) -> None:
    envelope = request_account(session, service_settings, "Ann@Example.org")
    session.commit()
    assert envelope is not None and envelope.to == "ann@example.org"
    assert envelope.letter.subject == "confirm"
    assert envelope.letter.body.endswith(f" {service_settings.signup_link_max_age_s // 3600}")
    token = token_of(envelope)
    assert rows(session, User) == 0

    with pytest.raises(ServiceError) as wrong:
        signups.confirm_account(session=session, token=token, password="no", limits=LIMITS)
    user = signups.confirm_account(session=session, token=token, password=PASSWORD, limits=LIMITS)
    session.commit()

    assert wrong.value.code == "not_the_chosen_password"
    assert (user.email, user.display_name, user.locale) == ("ann@example.org", "Ann", "es")
    assert passwords.verify_password(user.password_hash, PASSWORD)
    with pytest.raises(ServiceError) as spent:
        signups.check_link(session=session, token=token, kind=signups.VERIFY)
    assert spent.value.code == "invalid_signup_link"


def test_a_registered_address_gets_a_warning_and_no_link(
    session: Session, service_settings: Settings
) -> None:
    accounts.register(session=session, email="ann@example.org", password=PASSWORD)

    envelope = request_account(session, service_settings, "ann@example.org")

    assert envelope == Envelope("ann@example.org", Letter("exists", "https://mirada.test/login"))
    assert rows(session, SignupToken) == 0


def test_an_inbox_gets_a_limited_number_of_mails(
    session: Session, service_settings: Settings
) -> None:
    allowed = service_settings.reset_requests_per_account
    sent = [request_account(session, service_settings, "ann@example.org") for _ in range(allowed)]

    assert all(sent)
    assert request_account(session, service_settings, "ann@example.org") is None
    assert rows(session, SignupToken) == allowed


def test_sign_ups_are_counted_per_address(session: Session, service_settings: Settings) -> None:
    settings = service_settings.model_copy(update={"signups_per_address": 1})
    request_account(session, settings, "ann@example.org")

    with pytest.raises(TooManyAttempts) as refused:
        request_account(session, settings, "bob@example.org")

    assert refused.value.code == "too_many_requests" and refused.value.params["n"] >= 1


def test_an_invitation_makes_one_account(session: Session, service_settings: Settings) -> None:
    token = signups.invite(
        session=session, settings=service_settings, email="Ann@Example.org", invited_by=None
    )
    with pytest.raises(ServiceError) as weak:
        signups.accept_invitation(
            session=session, token=token, password="password", display_name="", locale=None
        )
    assert weak.value.code == "password_too_common" and rows(session, User) == 0

    user = signups.accept_invitation(
        session=session, token=token, password=PASSWORD, display_name=" Ann ", locale=None
    )
    session.commit()

    assert (user.email, user.display_name) == ("ann@example.org", "Ann")
    with pytest.raises(Conflict):
        signups.invite(
            session=session, settings=service_settings, email="ann@example.org", invited_by=user
        )


def reset_letter(session: Session, settings: Settings, email: str) -> Envelope | None:
    return password_reset.request_reset(
        session=session, settings=settings, letters=PlainLetters(), email=email, link_for=link
    )


def test_a_reset_link_is_made_only_for_an_active_account(
    session: Session, service_settings: Settings
) -> None:
    ann = accounts.register(session=session, email="ann@example.org", password=PASSWORD)

    assert reset_letter(session, service_settings, "nobody@example.org") is None
    envelope = reset_letter(session, service_settings, "ANN@example.org")
    ann.is_active = False
    assert reset_letter(session, service_settings, "ann@example.org") is None

    assert envelope is not None and envelope.to == "ann@example.org"
    assert envelope.letter.body.endswith(f" {service_settings.password_reset_max_age_s // 60}")
    assert rows(session, PasswordResetToken) == 1


def test_redeeming_a_reset_link_sets_the_password_once(
    session: Session, service_settings: Settings
) -> None:
    ann = accounts.register(session=session, email="ann@example.org", password=PASSWORD)
    sessions.start_session(session=session, user=ann, remember=True, lifetime=timedelta(days=1))
    token = token_of(reset_letter(session, service_settings, ann.email))
    assert password_reset.check_token(session=session, token=token) is ann

    with pytest.raises(ServiceError) as weak:
        password_reset.redeem(session=session, token=token, new_password="short")
    password_reset.redeem(session=session, token=token, new_password=NEW_PASSWORD)
    session.commit()

    assert weak.value.code == "password_too_short"
    assert passwords.verify_password(ann.password_hash, NEW_PASSWORD)
    assert sessions.count_sessions(session=session, user=ann) == 0
    with pytest.raises(ServiceError) as spent:
        password_reset.check_token(session=session, token=token)
    assert spent.value.code == "invalid_reset_link"


def test_reset_requests_are_counted_per_client_and_per_address(
    session: Session, service_settings: Settings
) -> None:
    for _ in range(service_settings.reset_requests_per_account):
        password_reset.count_request(
            session=session, settings=service_settings, address="192.0.2.1", email="a@b.org"
        )

    with pytest.raises(TooManyAttempts):
        password_reset.count_request(
            session=session, settings=service_settings, address="192.0.2.2", email=" A@B.org"
        )
    password_reset.count_request(
        session=session, settings=service_settings, address="192.0.2.2", email="c@b.org"
    )
