"""User accounts: registration, sign-in checks, profile, password changes, deletion."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import PasswordResetToken, User
from mirada.db.base import utcnow
from mirada.services import passwords, sessions, throttle, timezones
from mirada.services.errors import Conflict, ServiceError, TooManyAttempts
from mirada.storage import user_blob_prefix

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 80
LOCALES = ("en", "es")


def normalize_email(email: str) -> str:
    """The canonical, lower-cased form of an address, or a ServiceError if it is not one."""
    email = email.strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        raise ServiceError("invalid_email")
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError("invalid_email") from exc
    return valid.normalized.lower()


def find_by_email(*, session: Session, email: str) -> User | None:
    """The user with this address, whatever its case."""
    try:
        normalized = normalize_email(email)
    except ServiceError:
        return None
    return session.scalar(select(User).where(User.email == normalized))


def clean_display_name(display_name: str) -> str:
    """The name with its blanks collapsed, or a refusal of control characters or length."""
    display_name = " ".join(display_name.split())
    if any(unicodedata.category(ch) == "Cc" for ch in display_name):
        raise ServiceError("display_name_invalid")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise ServiceError("display_name_too_long", n=MAX_DISPLAY_NAME_LENGTH)
    return display_name


def clean_locale(locale: str | None) -> str | None:
    """One of the offered languages, None for "as the browser asks", or a refusal."""
    if locale in (None, ""):
        return None
    if locale not in LOCALES:
        raise ServiceError("invalid_locale")
    return locale


def email_taken() -> Conflict:
    """The refusal of an address that already has an account."""
    return Conflict("email_taken")


def add_user(*, session: Session, user: User) -> User:
    """Store a new account, or refuse its address when another request stored it first.

    The insert runs in a savepoint, so a refusal leaves the rest of the transaction as it was.
    """
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:  # the same address registered at the same moment
        raise email_taken() from None
    return user


def register(
    *,
    session: Session,
    email: str,
    password: str,
    display_name: str = "",
    locale: str | None = None,
    timezone: str | None = None,
    is_admin: bool = False,
) -> User:
    """Create an account, or refuse a bad or already registered address or a weak password."""
    normalized = normalize_email(email)
    passwords.check_policy(password, email=normalized)
    user = User(
        email=normalized,
        display_name=clean_display_name(display_name),
        password_hash=passwords.hash_password(password),
        locale=clean_locale(locale),
        timezone=timezones.clean_timezone(timezone),
        is_admin=is_admin,
    )
    if session.scalar(select(User.id).where(User.email == normalized)) is not None:
        raise email_taken()
    return add_user(session=session, user=user)


@dataclass(frozen=True)
class SignInLimits:
    """How many failures each kind of key may have in one window."""

    per_account: int
    per_address: int
    window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimits:
        """The limits the settings ask for."""
        return cls(
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window=timedelta(seconds=settings.login_window_s),
        )


def _minutes(wait: int) -> int:
    return max(1, (wait + 59) // 60)


def too_many_attempts(wait: int) -> TooManyAttempts:
    """The refusal of a throttled attempt, saying how many minutes (``n``) to wait."""
    return TooManyAttempts("too_many_attempts", retry_after_s=wait, n=_minutes(wait))


def too_many_requests(wait: int) -> TooManyAttempts:
    """The refusal of a request made too often (sign-ups, reset mails)."""
    return TooManyAttempts("too_many_requests", retry_after_s=wait, n=_minutes(wait))


def _sign_in_limits(
    email: str, address: str, device: str | None, limits: SignInLimits
) -> list[throttle.Limit]:
    """A known device answers for its own failures only; other browsers share the
    address's and the account's counters."""
    account = throttle.Limit(throttle.account_key(email, device), limits.per_account, limits.window)
    if device is not None:
        return [account]
    return [
        throttle.Limit(throttle.address_key(address), limits.per_address, limits.window),
        account,
    ]


def authenticate(
    *,
    session: Session,
    email: str,
    password: str,
    address: str,
    known_device: Callable[[str], str | None],
    limits: SignInLimits,
    checkpoint: Callable[[], None] | None = None,
) -> User:
    """The user these credentials belong to, or a refusal that does not say whether it exists.

    ``known_device(email)`` names the browser when it has signed in to that account before;
    its failures are counted apart from everyone else's, so neither a flood against the
    account nor one from its address (a school's NAT, a proxy) locks it out. A failure stays
    counted in ``session`` when this refuses: the door commits it. ``checkpoint`` (the door's
    commit) is called once the attempt is counted, before the slow password check, so that
    the counters are not locked while the password is hashed.
    """
    try:
        normalized = normalize_email(email)
    except ServiceError:
        # Not an address, so no account; PostgreSQL text cannot hold NUL.
        normalized = email.replace("\x00", "").strip().lower()[:MAX_EMAIL_LENGTH]
    counted = _sign_in_limits(normalized, address, known_device(normalized), limits)
    wait = throttle.take_all(session=session, limits=counted)
    if wait:
        raise too_many_attempts(wait)
    if checkpoint is not None:
        checkpoint()
    user = session.scalar(select(User).where(User.email == normalized))
    if (
        not passwords.verify_password(user.password_hash if user else None, password)
        or user is None
    ):
        raise ServiceError("bad_credentials")
    # The right password: the address's slot goes back, the account's failures are forgotten.
    throttle.release(session=session, limits=counted[:-1])
    throttle.clear(session=session, keys=[counted[-1].key])
    if not user.is_active:
        raise ServiceError("account_disabled")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def check_current_password(
    *, session: Session, user: User, password: str, limits: SignInLimits
) -> None:
    """Refuse a wrong current password, at most ``limits.per_account`` times per window
    (the failure stays counted in ``session``)."""
    limit = throttle.Limit(f"reauth:{user.id}", limits.per_account, limits.window)
    wait = throttle.take(session=session, limit=limit)
    if wait:
        raise too_many_attempts(wait)
    if not passwords.verify_password(user.password_hash, password):
        raise ServiceError("bad_current_password")
    throttle.clear(session=session, keys=[limit.key])


def change_password(
    *,
    session: Session,
    user: User,
    current_password: str,
    new_password: str,
    keep_session: str | None,
    limits: SignInLimits,
) -> None:
    """Set a new password after checking the current one; ends every other session."""
    check_current_password(session=session, user=user, password=current_password, limits=limits)
    set_password(session=session, user=user, new_password=new_password, keep_session=keep_session)


def set_password(
    *, session: Session, user: User, new_password: str, keep_session: str | None = None
) -> None:
    """Set a new password, spend every open reset link and end the user's sessions
    (all but ``keep_session``)."""
    passwords.check_policy(new_password, email=user.email)
    user.password_hash = passwords.hash_password(new_password)
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    sessions.end_user_sessions(session=session, user=user, keep_token=keep_session)


def update_profile(
    *, user: User, display_name: str, locale: str | None, timezone: str | None
) -> None:
    """Change the display name, the preferred language and the time zone: all of them, or
    none when one is refused."""
    name, language = clean_display_name(display_name), clean_locale(locale)
    zone = timezones.clean_timezone(timezone)
    user.display_name, user.locale, user.timezone = name, language, zone


def adopt_timezone(*, user: User, timezone: str | None) -> None:
    """Give a user who has no time zone yet the one their browser reports, if it is known."""
    if user.timezone is None and timezones.is_known(timezone):
        user.timezone = timezone


def delete_account(*, session: Session, user: User, password: str, limits: SignInLimits) -> str:
    """Delete the account and its rows, after checking the password.

    Returns the blob prefix of the account's files: the door deletes them once the
    transaction is committed (rows go before their files, never the other way round).
    """
    check_current_password(session=session, user=user, password=password, limits=limits)
    prefix = user_blob_prefix(user.id)
    session.delete(user)
    session.flush()
    return prefix


def count_users(*, session: Session) -> int:
    """How many accounts exist."""
    return session.scalar(select(func.count(User.id))) or 0
