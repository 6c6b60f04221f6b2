"""Who may create an account, and how (``MIRADA_SIGNUP``).

- open: anyone, at once;
- verified: the registration waits in a link mailed to the address, and becomes an
  account when that link is opened with the password chosen; the page answers the same
  whether the address already has an account or not (its owner gets a warning instead);
- invite: only through an invitation link an administrator made for one address;
- closed: nobody (administrators create accounts from the command line).

Every sign-up that passes the checks (a real address, a good password) is counted
against the client's address before anything is written or mailed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import SignupToken, User
from mirada.db.base import utcnow
from mirada.services import accounts, passwords, throttle
from mirada.services.errors import ServiceError
from mirada.services.mail import Envelope, Letters
from mirada.services.tokens import new_token, token_hash

VERIFY = "verify"
INVITE = "invite"


def _count_attempt(*, session: Session, settings: Settings, address: str) -> None:
    """Count one sign-up from ``address``, or refuse when it made too many this window."""
    limit = throttle.Limit(
        f"signup-ip:{address}",
        settings.signups_per_address,
        timedelta(seconds=settings.request_window_s),
    )
    wait = throttle.take(session=session, limit=limit)
    if wait:
        raise accounts.too_many_requests(wait)


def register(
    *,
    session: Session,
    settings: Settings,
    address: str,
    email: str,
    password: str,
    display_name: str,
    locale: str | None,
    timezone: str | None = None,
) -> User:
    """Open mode: the account, at once (counted against ``address``)."""
    passwords.check_policy(password, email=accounts.normalize_email(email))
    _count_attempt(session=session, settings=settings, address=address)
    return accounts.register(
        session=session,
        email=email,
        password=password,
        display_name=display_name,
        locale=locale,
        timezone=timezone,
    )


def _new_link(session: Session, *, kind: str, email: str, max_age_s: int, **fields: object) -> str:
    token = new_token()
    now = utcnow()
    session.add(
        SignupToken(
            kind=kind,
            email=email,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
            **fields,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class AccountRequest:
    """A sign-up that passed the checks, waiting to be mailed (verified mode)."""

    email: str
    password: str
    display_name: str
    locale: str | None


def check_account_request(
    *,
    session: Session,
    settings: Settings,
    address: str,
    email: str,
    password: str,
    display_name: str,
    locale: str | None,
) -> AccountRequest:
    """Verified mode, in the request: refuse a bad address, password or name, count the
    attempt against ``address``, and say nothing about whether the address has an account."""
    normalized = accounts.normalize_email(email)
    passwords.check_policy(password, email=normalized)
    request = AccountRequest(
        email=normalized,
        password=password,
        display_name=accounts.clean_display_name(display_name),
        locale=accounts.clean_locale(locale),
    )
    _count_attempt(session=session, settings=settings, address=address)
    return request


def request_account(
    *,
    session: Session,
    settings: Settings,
    letters: Letters,
    request: AccountRequest,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
) -> Envelope | None:
    """A confirmation link, or, when the address has an account, a warning to its owner:
    the letter to post once the transaction is committed.

    The web runs this in the background, after ``check_account_request``, so that neither
    its answer nor the time it takes tells the two cases apart. An address that has had its
    mails for the window gets no more (a stranger cannot fill someone's inbox): None.
    """
    window = timedelta(seconds=settings.request_window_s)
    limit = throttle.Limit(
        f"signup-to:{request.email}", settings.reset_requests_per_account, window
    )
    if throttle.take(session=session, limit=limit):
        return None
    if accounts.find_by_email(session=session, email=request.email) is not None:
        return Envelope(request.email, letters.account_exists(sign_in_link=sign_in_link))
    token = _new_link(
        session,
        kind=VERIFY,
        email=request.email,
        max_age_s=settings.signup_link_max_age_s,
        password_hash=passwords.hash_password(request.password),
        display_name=request.display_name,
        locale=request.locale,
    )
    hours = max(1, settings.signup_link_max_age_s // 3600)
    return Envelope(request.email, letters.confirm_account(link=confirm_link(token), hours=hours))


def _live_link(session: Session, token: str, kind: str) -> SignupToken:
    row = session.scalar(
        select(SignupToken).where(
            SignupToken.token_hash == token_hash(token), SignupToken.kind == kind
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise ServiceError("invalid_signup_link")
    return row


def check_link(*, session: Session, token: str, kind: str) -> SignupToken:
    """The live confirmation or invitation behind ``token``, or a refusal."""
    return _live_link(session, token, kind)


def _create_user(
    session: Session,
    row: SignupToken,
    *,
    password_hash: str,
    display_name: str,
    locale: str | None,
) -> User:
    """The account ``row`` was waiting for; spends every open link to its address."""
    user = User(
        email=row.email, password_hash=password_hash, display_name=display_name, locale=locale
    )
    accounts.add_user(session=session, user=user)  # refused when the address got one meanwhile
    session.execute(
        update(SignupToken)
        .where(SignupToken.email == row.email, SignupToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return user


def confirm_account(
    *, session: Session, token: str, password: str, limits: accounts.SignInLimits
) -> User:
    """Turn a confirmed registration into an account, given the password chosen with it
    (a wrong one stays counted in ``session``)."""
    row = _live_link(session, token, VERIFY)
    limit = throttle.Limit(f"confirm:{row.id}", limits.per_account, limits.window)
    wait = throttle.take(session=session, limit=limit)
    if wait:
        raise accounts.too_many_attempts(wait)
    if not row.password_hash or not passwords.verify_password(row.password_hash, password):
        raise ServiceError("not_the_chosen_password")
    return _create_user(
        session,
        row,
        password_hash=row.password_hash,
        display_name=row.display_name,
        locale=row.locale,
    )


def invite(*, session: Session, settings: Settings, email: str, invited_by: User | None) -> str:
    """An invitation token for ``email`` (refused when it already has an account)."""
    normalized = accounts.normalize_email(email)
    if accounts.find_by_email(session=session, email=normalized) is not None:
        raise accounts.email_taken()
    return _new_link(
        session,
        kind=INVITE,
        email=normalized,
        max_age_s=settings.invitation_max_age_s,
        invited_by_id=invited_by.id if invited_by else None,
    )


def accept_invitation(
    *, session: Session, token: str, password: str, display_name: str, locale: str | None
) -> User:
    """The account an invitation was made for, with the password and name chosen now."""
    row = _live_link(session, token, INVITE)
    passwords.check_policy(password, email=row.email)
    name, language = accounts.clean_display_name(display_name), accounts.clean_locale(locale)
    return _create_user(
        session,
        row,
        password_hash=passwords.hash_password(password),
        display_name=name,
        locale=language,
    )
