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

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mirada.config import Settings
from mirada.db import SignupToken, User, db
from mirada.db.base import utcnow
from mirada.services import accounts, passwords, throttle
from mirada.services.errors import Conflict, ServiceError
from mirada.services.mail import Mailer
from mirada.services.tokens import new_token, token_hash

VERIFY = "verify"
INVITE = "invite"


def _count_attempt(*, settings: Settings, address: str) -> None:
    """Count one sign-up from ``address``, or refuse when it made too many this window."""
    limit = throttle.Limit(
        f"signup-ip:{address}",
        settings.signups_per_address,
        timedelta(seconds=settings.request_window_s),
    )
    wait = throttle.take(limit)
    if wait:
        raise accounts.too_many_requests(wait)


def register(
    *,
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
    _count_attempt(settings=settings, address=address)
    return accounts.register(
        email=email,
        password=password,
        display_name=display_name,
        locale=locale,
        timezone=timezone,
    )


def _new_link(*, kind: str, email: str, max_age_s: int, **fields: object) -> str:
    token = new_token()
    now = utcnow()
    db.session.add(
        SignupToken(
            kind=kind,
            email=email,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(seconds=max_age_s),
            **fields,
        )
    )
    db.session.commit()
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
    _count_attempt(settings=settings, address=address)
    return request


def request_account(
    *,
    settings: Settings,
    mailer: Mailer,
    request: AccountRequest,
    confirm_link: Callable[[str], str],
    sign_in_link: str,
) -> None:
    """Mail a confirmation link, or, when the address has an account, a warning to its owner.

    The web runs this in the background, after ``check_account_request``, so that neither
    its answer nor the time it takes tells the two cases apart. An address that has had its
    mails for the window gets no more (a stranger cannot fill someone's inbox).
    """
    window = timedelta(seconds=settings.request_window_s)
    if throttle.take(
        throttle.Limit(f"signup-to:{request.email}", settings.reset_requests_per_account, window)
    ):
        return
    if accounts.find_by_email(request.email) is not None:
        mailer.send(
            to=request.email,
            subject=_("Someone tried to create a Mirada account with your address"),
            body=_(
                "Someone tried to create a Mirada account with this address, which already "
                "has one.\n\nIf it was you, sign in here (you can ask for a new password "
                "there if you forgot it):\n\n%(link)s\n\n"
                "If it was not you, ignore this message; nothing has changed.",
                link=sign_in_link,
            ),
        )
        return
    token = _new_link(
        kind=VERIFY,
        email=request.email,
        max_age_s=settings.signup_link_max_age_s,
        password_hash=passwords.hash_password(request.password),
        display_name=request.display_name,
        locale=request.locale,
    )
    mailer.send(
        to=request.email,
        subject=_("Confirm your Mirada account"),
        body=_(
            "To finish creating your Mirada account, open this link within %(hours)d hours "
            "and enter the password you chose:\n\n%(link)s\n\n"
            "If it was not you, ignore this message; no account is created.",
            hours=max(1, settings.signup_link_max_age_s // 3600),
            link=confirm_link(token),
        ),
    )


def _live_link(token: str, kind: str) -> SignupToken:
    row = db.session.scalar(
        select(SignupToken).where(
            SignupToken.token_hash == token_hash(token), SignupToken.kind == kind
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise ServiceError(
            "invalid_signup_link",
            _l("This link is invalid, used or expired."),
        )
    return row


def check_link(*, token: str, kind: str) -> SignupToken:
    """The live confirmation or invitation behind ``token``, or a refusal."""
    return _live_link(token, kind)


def _create_user(
    row: SignupToken, *, password_hash: str, display_name: str, locale: str | None
) -> User:
    """The account ``row`` was waiting for; spends every open link to its address."""
    user = User(
        email=row.email, password_hash=password_hash, display_name=display_name, locale=locale
    )
    db.session.add(user)
    db.session.execute(
        update(SignupToken)
        .where(SignupToken.email == row.email, SignupToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    try:
        db.session.commit()
    except IntegrityError:  # the address got an account meanwhile
        db.session.rollback()
        raise Conflict("email_taken", _l("An account with this email already exists.")) from None
    return user


def confirm_account(*, token: str, password: str, limits: accounts.SignInLimits) -> User:
    """Turn a confirmed registration into an account, given the password chosen with it."""
    row = _live_link(token, VERIFY)
    limit = throttle.Limit(f"confirm:{row.id}", limits.per_account, limits.window)
    wait = throttle.take(limit)
    if wait:
        raise accounts.too_many_attempts(wait)
    if not row.password_hash or not passwords.verify_password(row.password_hash, password):
        raise ServiceError("bad_credentials", _l("This is not the password you chose."))
    return _create_user(
        row, password_hash=row.password_hash, display_name=row.display_name, locale=row.locale
    )


def invite(*, settings: Settings, email: str, invited_by: User | None) -> str:
    """An invitation token for ``email`` (refused when it already has an account)."""
    normalized = accounts.normalize_email(email)
    if accounts.find_by_email(normalized) is not None:
        raise Conflict("email_taken", _l("An account with this email already exists."))
    return _new_link(
        kind=INVITE,
        email=normalized,
        max_age_s=settings.invitation_max_age_s,
        invited_by_id=invited_by.id if invited_by else None,
    )


def accept_invitation(*, token: str, password: str, display_name: str, locale: str | None) -> User:
    """The account an invitation was made for, with the password and name chosen now."""
    row = _live_link(token, INVITE)
    passwords.check_policy(password, email=row.email)
    return _create_user(
        row,
        password_hash=passwords.hash_password(password),
        display_name=accounts.clean_display_name(display_name),
        locale=accounts.clean_locale(locale),
    )
