"""Counting attempts per key in a window, on a plain SQLAlchemy session (no Flask app)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mirada.db import AuthThrottle
from mirada.db.base import utcnow
from mirada.services import throttle

WINDOW = timedelta(minutes=15)


def failures(session: Session, key: str) -> int | None:
    return session.scalar(select(AuthThrottle.failures).where(AuthThrottle.key == key))


def test_a_key_is_counted_up_to_its_limit_then_told_to_wait(session: Session) -> None:
    limit = throttle.Limit("k", 3, WINDOW)

    waits = [throttle.take(session=session, limit=limit) for _ in range(4)]

    assert waits[:3] == [0, 0, 0]
    assert 0 < waits[3] <= WINDOW.total_seconds()
    assert failures(session, "k") == 3
    assert throttle.retry_after(session=session, limit=limit) == waits[3]


def test_nothing_is_committed_by_the_throttle(session: Session) -> None:
    throttle.take(session=session, limit=throttle.Limit("k", 3, WINDOW))

    session.rollback()

    assert failures(session, "k") is None


def test_a_new_window_counts_from_one(session: Session) -> None:
    limit = throttle.Limit("k", 2, WINDOW)
    for _ in range(2):
        throttle.take(session=session, limit=limit)
    session.execute(update(AuthThrottle).values(window_start=utcnow() - WINDOW))

    assert throttle.take(session=session, limit=limit) == 0
    assert failures(session, "k") == 1
    assert throttle.retry_after(session=session, limit=limit) == 0


def test_take_all_takes_every_slot_or_none(session: Session) -> None:
    free, full = throttle.Limit("free", 5, WINDOW), throttle.Limit("full", 1, WINDOW)
    assert throttle.take(session=session, limit=full) == 0

    wait = throttle.take_all(session=session, limits=[free, full])

    assert wait > 0
    assert failures(session, "free") == 0  # its slot went back
    assert failures(session, "full") == 1


def test_release_gives_a_slot_back_and_clear_forgets_the_key(session: Session) -> None:
    a, b = throttle.Limit("a", 5, WINDOW), throttle.Limit("b", 5, WINDOW)
    for limit in (a, a, b):
        throttle.take(session=session, limit=limit)

    throttle.release(session=session, limits=[a])
    throttle.clear(session=session, keys=["b"])

    assert failures(session, "a") == 1
    assert failures(session, "b") is None


def test_the_keys_of_accounts_devices_and_addresses_differ() -> None:
    assert throttle.account_key("ann@example.org", None) == "acct:ann@example.org"
    assert throttle.account_key("ann@example.org", "d1") == "dev:d1:ann@example.org"
    assert throttle.address_key("192.0.2.1") == "ip:192.0.2.1"
