"""Forgotten passwords: single-use, expiring links sent by mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mirada.config import Settings
from mirada.db import PasswordResetToken, User, db
from mirada.db.base import utcnow
from mirada.services import accounts, throttle
from mirada.services.errors import ServiceError
from mirada.services.mail import Mailer
from mirada.services.tokens import new_token, token_hash


def request_limits(*, settings: Settings, address: str, email: str) -> list[throttle.Limit]:
    """Reset requests per client address and per address asked about (known or not)."""
    window = timedelta(seconds=settings.request_window_s)
    return [
        throttle.Limit(f"reset-ip:{address}", settings.reset_requests_per_address, window),
        throttle.Limit(f"reset-to:{email}", settings.reset_requests_per_account, window),
    ]


def count_request(*, settings: Settings, address: str, email: str) -> None:
    """Count one reset request, or refuse when its client or its address asked too often."""
    cleaned = email.replace("\x00", "").strip().lower()[: accounts.MAX_EMAIL_LENGTH]
    wait = throttle.take_all(request_limits(settings=settings, address=address, email=cleaned))
    if wait:
        raise accounts.too_many_requests(wait)


def request_reset(
    *, settings: Settings, mailer: Mailer, email: str, link_for: Callable[[str], str]
) -> None:
    """Mail a reset link if an active account has this address; silent otherwise.

    The web runs this in the background, after ``count_request``, so that the time of its
    answer does not tell whether the account exists.
    """
    user = accounts.find_by_email(email)
    if user is None or not user.is_active:
        return
    token = new_token()
    now = utcnow()
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.password_reset_max_age_s),
        )
    )
    db.session.commit()
    minutes = settings.password_reset_max_age_s // 60
    body = _(
        "Someone asked to reset the password of your Mirada account.\n\n"
        "To choose a new password, open this link within %(minutes)d minutes:\n\n%(link)s\n\n"
        "If it was not you, ignore this message; your password stays as it is.",
        minutes=minutes,
        link=link_for(token),
    )
    mailer.send(to=user.email, subject=_("Reset your Mirada password"), body=body)


def _valid_token(token: str) -> PasswordResetToken:
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise ServiceError(
            "invalid_reset_link",
            _l("This reset link is invalid, used or expired. Ask for a new one."),
        )
    if not row.user.is_active:
        raise ServiceError(
            "account_disabled", _l("This account is disabled. Contact an administrator.")
        )
    return row


def check_token(*, token: str) -> User:
    """The user a live reset token belongs to, or a refusal."""
    return _valid_token(token).user


def redeem(*, token: str, new_password: str) -> User:
    """Set the new password, spend every open link of the user and end all their sessions."""
    user = _valid_token(token).user
    accounts.set_password(user=user, new_password=new_password)
    return user
