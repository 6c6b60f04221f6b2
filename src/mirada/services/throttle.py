"""Slowing down password guessing without letting an attacker lock the real user out.

Failures are counted per client address and per account in a fixed window. A browser
that has signed in to an account before carries a signed device cookie; its attempts
are counted under their own key, so a flood of failures from elsewhere never locks a
known device out.
"""

from __future__ import annotations

from datetime import timedelta

from mirada.db import AuthThrottle, db
from mirada.db.base import utcnow


def address_key(address: str) -> str:
    """The counter key of a client address."""
    return f"ip:{address}"


def account_key(email: str, device: str | None) -> str:
    """The counter key of an account, or of an account on a device known to it."""
    return f"acct:{email}" if device is None else f"dev:{device}:{email}"


def retry_after(*, key: str, limit: int, window: timedelta) -> int:
    """Seconds until ``key`` may try again; 0 when it may try now."""
    row = db.session.get(AuthThrottle, key)
    if row is None:
        return 0
    ends = row.window_start + window
    remaining = (ends - utcnow()).total_seconds()
    if remaining <= 0 or row.failures < limit:
        return 0
    return max(1, int(remaining + 0.999))


def record_failure(*, keys: list[str], window: timedelta) -> None:
    """Count one failure against each key, opening a new window where the old one ended."""
    now = utcnow()
    for key in keys:
        row = db.session.get(AuthThrottle, key)
        if row is None:
            db.session.add(AuthThrottle(key=key, window_start=now, failures=1))
        elif row.window_start + window <= now:
            row.window_start, row.failures = now, 1
        else:
            row.failures += 1
    db.session.commit()


def clear(*, keys: list[str]) -> None:
    """Forget the failures of these keys (after a successful sign-in)."""
    for key in keys:
        row = db.session.get(AuthThrottle, key)
        if row is not None:
            db.session.delete(row)
    db.session.commit()
