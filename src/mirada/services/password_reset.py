"""Forgotten passwords: single-use, expiring links sent by mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import PasswordResetToken, User
from mirada.db.base import utcnow
from mirada.services import accounts, throttle
from mirada.services.errors import ServiceError
from mirada.services.mail import Envelope, Letters
from mirada.services.tokens import new_token, token_hash


def request_limits(*, settings: Settings, address: str, email: str) -> list[throttle.Limit]:
    """Reset requests per client address and per address asked about (known or not)."""
    window = timedelta(seconds=settings.request_window_s)
    return [
        throttle.Limit(f"reset-ip:{address}", settings.reset_requests_per_address, window),
        throttle.Limit(f"reset-to:{email}", settings.reset_requests_per_account, window),
    ]


def count_request(*, session: Session, settings: Settings, address: str, email: str) -> None:
    """Count one reset request, or refuse when its client or its address asked too often."""
    cleaned = email.replace("\x00", "").strip().lower()[: accounts.MAX_EMAIL_LENGTH]
    limits = request_limits(settings=settings, address=address, email=cleaned)
    wait = throttle.take_all(session=session, limits=limits)
    if wait:
        raise accounts.too_many_requests(wait)


def request_reset(
    *,
    session: Session,
    settings: Settings,
    letters: Letters,
    email: str,
    link_for: Callable[[str], str],
) -> Envelope | None:
    """A reset link for the active account with this address, as a letter to post once the
    link is committed; None (and nothing written) when there is no such account.

    The web runs this in the background, after ``count_request``, so that the time of its
    answer does not tell whether the account exists.
    """
    user = accounts.find_by_email(session=session, email=email)
    if user is None or not user.is_active:
        return None
    token = new_token()
    now = utcnow()
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.password_reset_max_age_s),
        )
    )
    session.flush()
    minutes = settings.password_reset_max_age_s // 60
    letter = letters.reset_password(link=link_for(token), minutes=minutes)
    return Envelope(to=user.email, letter=letter)


def _valid_token(session: Session, token: str) -> PasswordResetToken:
    row = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise ServiceError("invalid_reset_link")
    if not row.user.is_active:
        raise ServiceError("account_disabled")
    return row


def check_token(*, session: Session, token: str) -> User:
    """The user a live reset token belongs to, or a refusal."""
    return _valid_token(session, token).user


def redeem(*, session: Session, token: str, new_password: str) -> User:
    """Set the new password, spend every open link of the user and end all their sessions."""
    user = _valid_token(session, token).user
    accounts.set_password(session=session, user=user, new_password=new_password)
    return user
