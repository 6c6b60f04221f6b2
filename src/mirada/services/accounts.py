"""User accounts: registration, sign-in checks, profile, password changes, deletion."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from mirada.config import Settings
from mirada.db import PasswordResetToken, User, db
from mirada.db.base import utcnow
from mirada.services import passwords, sessions, throttle, timezones
from mirada.services.errors import Conflict, ServiceError, TooManyAttempts
from mirada.storage import BlobStore, user_blob_prefix

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 80
LOCALES = ("en", "es")


def normalize_email(email: str) -> str:
    """The canonical, lower-cased form of an address, or a ServiceError if it is not one."""
    email = email.strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        raise ServiceError("invalid_email", _l("Enter a valid email address."))
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError("invalid_email", _l("Enter a valid email address.")) from exc
    return valid.normalized.lower()


def find_by_email(email: str) -> User | None:
    """The user with this address, whatever its case."""
    try:
        normalized = normalize_email(email)
    except ServiceError:
        return None
    return db.session.scalar(select(User).where(User.email == normalized))


def clean_display_name(display_name: str) -> str:
    """The name with its blanks collapsed, or a refusal of control characters or length."""
    display_name = " ".join(display_name.split())
    if any(unicodedata.category(ch) == "Cc" for ch in display_name):
        raise ServiceError(
            "display_name_invalid", _l("The name contains characters that are not allowed.")
        )
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise ServiceError(
            "display_name_too_long",
            _l("Use at most %(n)d characters for the name.", n=MAX_DISPLAY_NAME_LENGTH),
        )
    return display_name


def clean_locale(locale: str | None) -> str | None:
    """One of the offered languages, None for "as the browser asks", or a refusal."""
    if locale in (None, ""):
        return None
    if locale not in LOCALES:
        raise ServiceError("invalid_locale", _l("Choose one of the offered languages."))
    return locale


def _email_taken() -> Conflict:
    return Conflict("email_taken", _l("An account with this email already exists."))


def register(
    *,
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
    if db.session.scalar(select(User.id).where(User.email == normalized)) is not None:
        raise _email_taken()
    try:
        db.session.add(user)
        db.session.commit()
    except IntegrityError:  # the same address registered at the same moment
        db.session.rollback()
        raise _email_taken() from None
    return user


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


def too_many_attempts(wait: int) -> TooManyAttempts:
    """The refusal of a throttled attempt, saying how many minutes to wait."""
    minutes = max(1, (wait + 59) // 60)
    return TooManyAttempts(
        "too_many_attempts",
        _l("Too many failed attempts. Try again in %(n)d minutes.", n=minutes),
        retry_after_s=wait,
    )


def too_many_requests(wait: int) -> TooManyAttempts:
    """The refusal of a request made too often (sign-ups, reset mails)."""
    minutes = max(1, (wait + 59) // 60)
    return TooManyAttempts(
        "too_many_requests",
        _l("Too many requests. Try again in %(n)d minutes.", n=minutes),
        retry_after_s=wait,
    )


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
    email: str,
    password: str,
    address: str,
    known_device: Callable[[str], str | None],
    limits: SignInLimits,
) -> User:
    """The user these credentials belong to, or a refusal that does not say whether it exists.

    ``known_device(email)`` names the browser when it has signed in to that account before;
    its failures are counted apart from everyone else's, so neither a flood against the
    account nor one from its address (a school's NAT, a proxy) locks it out.
    """
    try:
        normalized = normalize_email(email)
    except ServiceError:
        # Not an address, so no account; PostgreSQL text cannot hold NUL.
        normalized = email.replace("\x00", "").strip().lower()[:MAX_EMAIL_LENGTH]
    counted = _sign_in_limits(normalized, address, known_device(normalized), limits)
    wait = throttle.take_all(counted)
    if wait:
        raise too_many_attempts(wait)
    user = db.session.scalar(select(User).where(User.email == normalized))
    if (
        not passwords.verify_password(user.password_hash if user else None, password)
        or user is None
    ):
        raise ServiceError("bad_credentials", _l("Wrong email or password."))
    # The right password: the address's slot goes back, the account's failures are forgotten.
    throttle.release(counted[:-1])
    throttle.clear([counted[-1].key])
    if not user.is_active:
        raise ServiceError(
            "account_disabled", _l("This account is disabled. Contact an administrator.")
        )
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.commit()
    return user


def check_current_password(*, user: User, password: str, limits: SignInLimits) -> None:
    """Refuse a wrong current password, at most ``limits.per_account`` times per window."""
    limit = throttle.Limit(f"reauth:{user.id}", limits.per_account, limits.window)
    wait = throttle.take(limit)
    if wait:
        raise too_many_attempts(wait)
    if not passwords.verify_password(user.password_hash, password):
        raise ServiceError("bad_current_password", _l("The current password is wrong."))
    throttle.clear([limit.key])


def change_password(
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session: str | None,
    limits: SignInLimits,
) -> None:
    """Set a new password after checking the current one; ends every other session."""
    check_current_password(user=user, password=current_password, limits=limits)
    set_password(user=user, new_password=new_password, keep_session=keep_session)


def set_password(*, user: User, new_password: str, keep_session: str | None = None) -> None:
    """Set a new password, spend every open reset link and end the user's sessions
    (all but ``keep_session``)."""
    passwords.check_policy(new_password, email=user.email)
    user.password_hash = passwords.hash_password(new_password)
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    db.session.commit()
    sessions.end_user_sessions(user=user, keep_token=keep_session)


def update_profile(
    *, user: User, display_name: str, locale: str | None, timezone: str | None
) -> None:
    """Change the display name, the preferred language and the time zone."""
    user.display_name = clean_display_name(display_name)
    user.locale = clean_locale(locale)
    user.timezone = timezones.clean_timezone(timezone)
    db.session.commit()


def adopt_timezone(*, user: User, timezone: str | None) -> None:
    """Give a user who has no time zone yet the one their browser reports, if it is known."""
    if user.timezone is None and timezones.is_known(timezone):
        user.timezone = timezone
        db.session.commit()


def delete_account(*, user: User, password: str, blobs: BlobStore, limits: SignInLimits) -> None:
    """Delete the account and everything it owns (rows and files), after checking the password."""
    check_current_password(user=user, password=password, limits=limits)
    user_id = user.id
    db.session.delete(user)
    db.session.commit()
    blobs.delete_prefix(user_blob_prefix(user_id))


def count_users() -> int:
    """How many accounts exist."""
    return db.session.scalar(select(func.count(User.id))) or 0
