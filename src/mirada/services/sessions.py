"""Server-side sessions: a browser is signed in only while its row exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mirada.db import User, UserSession
from mirada.db.base import utcnow
from mirada.services.tokens import new_token, token_hash

TOUCH_INTERVAL = timedelta(minutes=1)


def start_session(
    *, session: Session, user: User, remember: bool, lifetime: timedelta, user_agent: str = ""
) -> str:
    """Create a session for ``user`` and return the token for the cookie."""
    token = new_token()
    now = utcnow()
    session.add(
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
    session.flush()
    return token


def resolve_session(
    *, session: Session, token: str, idle_lifetime: timedelta
) -> UserSession | None:
    """The live session for a cookie token, or None when it ended, expired or its user is disabled.

    Sessions that are not "remembered" slide: each use pushes their expiry ``idle_lifetime`` on.
    """
    row = session.get(UserSession, token_hash(token))
    now = utcnow()
    if row is None or row.expires_at <= now or not row.user.is_active:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        if not row.remember:
            row.expires_at = now + idle_lifetime
    return row


def end_session(*, session: Session, token: str) -> None:
    """Sign one browser out."""
    session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


def end_user_sessions(*, session: Session, user: User, keep_token: str | None = None) -> int:
    """End every session of ``user`` except the one holding ``keep_token``; returns how many."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token is not None:
        query = query.where(UserSession.token_hash != token_hash(keep_token))
    result = session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


def count_sessions(*, session: Session, user: User) -> int:
    """How many live sessions ``user`` has (for the account page)."""
    rows = session.scalars(
        select(UserSession.token_hash).where(
            UserSession.user_id == user.id, UserSession.expires_at > utcnow()
        )
    )
    return len(rows.all())
