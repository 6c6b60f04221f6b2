"""Counting attempts per key in a fixed window, atomically, on SQLite and PostgreSQL alike.

An attempt takes a slot *before* the slow work it guards (an argon2 check, a mail): one
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement either counts it, opening a new
window where the old one ended, or finds the key full. So a hundred parallel requests
against a limit of 20 let exactly 20 through, and the counter reads 20. A slot whose
attempt turned out well is given back with ``release`` or ``clear``.

Nothing here commits: the counts are written in the caller's transaction, which the door
commits also when the attempt is refused (the view catches the refusal and answers with
the form again). Until then the row of a key stays locked, so attempts on the same key
wait for each other rather than overtake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mirada.db import AuthThrottle
from mirada.db.base import UTCDateTime, utcnow

_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``key`` in each ``window``."""

    key: str
    attempts: int
    window: timedelta


def address_key(address: str) -> str:
    """The sign-in counter of a client address (attempts from browsers it does not know)."""
    return f"ip:{address}"


def account_key(email: str, device: str | None) -> str:
    """The counter of an account, or of an account on a device known to it."""
    return f"acct:{email}" if device is None else f"dev:{device}:{email}"


def take(*, session: Session, limit: Limit) -> int:
    """Count one attempt against ``limit.key`` and return 0, or the seconds to wait when full."""
    now = utcnow()
    expired = AuthThrottle.window_start <= now - limit.window
    insert = _INSERTS[session.get_bind().dialect.name](AuthThrottle)
    statement = (
        insert.values(key=limit.key, window_start=now, failures=1)
        .on_conflict_do_update(
            index_elements=[AuthThrottle.key],
            set_={
                "failures": case((expired, 1), else_=AuthThrottle.failures + 1),
                "window_start": case(
                    (expired, literal(now, UTCDateTime())), else_=AuthThrottle.window_start
                ),
            },
            where=expired | (AuthThrottle.failures < limit.attempts),
        )
        .returning(AuthThrottle.failures)
    )
    counted = session.execute(statement).first()
    if counted is not None:
        return 0
    return (
        retry_after(session=session, limit=limit) or 1
    )  # full a moment ago: the caller tries again


def take_all(*, session: Session, limits: list[Limit]) -> int:
    """Take a slot of every limit, or none of them: 0, or the seconds to wait."""
    taken: list[Limit] = []
    for limit in limits:
        wait = take(session=session, limit=limit)
        if wait:
            release(session=session, limits=taken)
            return wait
        taken.append(limit)
    return 0


def retry_after(*, session: Session, limit: Limit) -> int:
    """Seconds until ``limit.key`` may try again; 0 when it may try now."""
    start = session.scalar(
        select(AuthThrottle.window_start).where(
            AuthThrottle.key == limit.key, AuthThrottle.failures >= limit.attempts
        )
    )
    if start is None:
        return 0
    remaining = (start + limit.window - utcnow()).total_seconds()
    return max(1, int(remaining + 0.999)) if remaining > 0 else 0


def release(*, session: Session, limits: list[Limit]) -> None:
    """Give back one slot of each limit (the attempt it counted did no harm)."""
    keys = [limit.key for limit in limits]
    if keys:
        session.execute(
            update(AuthThrottle)
            .where(AuthThrottle.key.in_(keys), AuthThrottle.failures > 0)
            .values(failures=AuthThrottle.failures - 1)
        )


def clear(*, session: Session, keys: list[str]) -> None:
    """Forget the counts of these keys (an account after its owner signed in)."""
    session.execute(delete(AuthThrottle).where(AuthThrottle.key.in_(keys)))
