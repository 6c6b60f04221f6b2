"""Server-side sessions: a browser is signed in only while its row exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from mirada.db import User, UserSession, db
from mirada.db.base import utcnow
from mirada.services.tokens import new_token, token_hash

TOUCH_INTERVAL = timedelta(minutes=1)


def start_session(*, user: User, remember: bool, lifetime: timedelta, user_agent: str = "") -> str:
    """Create a session for ``user`` and return the token for the cookie."""
    token = new_token()
    now = utcnow()
    db.session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            remember=remember,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            user_agent=user_agent.replace("\x00", "")[:255],  # PostgreSQL text cannot hold NUL
        )
    )
    user.last_login_at = now
    db.session.commit()
    return token


def resolve_session(*, token: str, idle_lifetime: timedelta) -> UserSession | None:
    """The live session for a cookie token, or None when it ended, expired or its user is disabled.

    Sessions that are not "remembered" slide: each use pushes their expiry ``idle_lifetime`` on.
    """
    row = db.session.get(UserSession, token_hash(token))
    now = utcnow()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        if not row.remember:
            row.expires_at = now + idle_lifetime
        db.session.commit()
    return row


def end_session(*, token: str) -> None:
    """Sign one browser out."""
    db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
    db.session.commit()


def end_user_sessions(*, user: User, keep_token: str | None = None) -> int:
    """End every session of ``user`` except the one holding ``keep_token``; returns how many."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token is not None:
        query = query.where(UserSession.token_hash != token_hash(keep_token))
    result = db.session.execute(query)
    db.session.commit()
    return result.rowcount or 0


def count_sessions(*, user: User) -> int:
    """How many live sessions ``user`` has (for the account page)."""
    rows = db.session.scalars(
        select(UserSession.token_hash).where(
            UserSession.user_id == user.id, UserSession.expires_at > utcnow()
        )
    )
    return len(rows.all())
