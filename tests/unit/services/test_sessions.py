"""Server-side sessions on a plain SQLAlchemy session (no Flask app)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mirada.db import User, UserSession
from mirada.db.base import utcnow
from mirada.services import sessions
from mirada.services.tokens import token_hash

HOUR = timedelta(hours=1)


@pytest.fixture()
def ann(session: Session) -> User:
    user = User(email="ann@example.org", password_hash="not checked here")
    session.add(user)
    session.commit()
    return user


def start(session: Session, user: User, *, remember: bool = False, agent: str = "") -> str:
    return sessions.start_session(
        session=session, user=user, remember=remember, lifetime=HOUR, user_agent=agent
    )


def test_a_started_session_resolves_to_its_user(session: Session, ann: User) -> None:
    token = start(session, ann, agent="Firefox\x00" + "x" * 300)
    session.commit()

    row = sessions.resolve_session(session=session, token=token, idle_lifetime=HOUR)

    assert row is not None and row.user_id == ann.id
    assert row.token_hash == token_hash(token) != token
    assert row.user_agent == ("Firefox" + "x" * 300)[:255]
    assert ann.last_login_at is not None
    assert sessions.resolve_session(session=session, token="forged", idle_lifetime=HOUR) is None


def test_an_expired_session_or_a_disabled_user_resolves_to_nobody(
    session: Session, ann: User
) -> None:
    expired, live = start(session, ann), start(session, ann)
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(expired))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    assert sessions.resolve_session(session=session, token=expired, idle_lifetime=HOUR) is None
    assert sessions.resolve_session(session=session, token=live, idle_lifetime=HOUR) is not None

    ann.is_active = False

    assert sessions.resolve_session(session=session, token=live, idle_lifetime=HOUR) is None


def test_using_a_session_slides_its_expiry_unless_remembered(session: Session, ann: User) -> None:
    sliding, remembered = start(session, ann), start(session, ann, remember=True)
    long_ago = utcnow() - timedelta(minutes=30)
    session.execute(update(UserSession).values(last_seen_at=long_ago, expires_at=utcnow() + HOUR))
    session.expire_all()
    before = {row.token_hash: row.expires_at for row in session.scalars(select(UserSession))}

    for token in (sliding, remembered):
        sessions.resolve_session(session=session, token=token, idle_lifetime=3 * HOUR)

    assert session.get(UserSession, token_hash(sliding)).expires_at > utcnow() + 2 * HOUR  # type: ignore[union-attr]
    kept = session.get(UserSession, token_hash(remembered))
    assert kept is not None and kept.expires_at == before[token_hash(remembered)]
    assert kept.last_seen_at > long_ago


def test_ending_sessions(session: Session, ann: User) -> None:
    one, two, three = (start(session, ann) for _ in range(3))
    assert sessions.count_sessions(session=session, user=ann) == 3

    sessions.end_session(session=session, token=one)
    ended = sessions.end_user_sessions(session=session, user=ann, keep_token=three)

    assert ended == 1
    assert sessions.count_sessions(session=session, user=ann) == 1
    assert sessions.resolve_session(session=session, token=two, idle_lifetime=HOUR) is None
    assert sessions.resolve_session(session=session, token=three, idle_lifetime=HOUR) is not None
