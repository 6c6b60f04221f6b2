"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mirada.services.errors import ServiceError

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("a password nobody has")


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common leaked passwords, from the locked ``zxcvbn`` package."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def check_policy(password: str, *, email: str = "") -> None:
    """Refuse passwords that are too short, too long, common, or the email itself."""
    if len(password) < MIN_LENGTH:
        raise ServiceError("password_too_short", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise ServiceError("password_too_long", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered == email.lower()):
        raise ServiceError("password_too_common")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
