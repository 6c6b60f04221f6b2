"""Who is signed in: the session cookie names a server-side session row.

The signed Flask cookie only carries a random token; signing out, changing the
password or being disabled removes or invalidates the row, which ends the session
everywhere at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import flask_babel
from flask import abort, g, redirect, request, session, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from mirada.db import User
from mirada.db.app_session import db
from mirada.runtime import settings
from mirada.services import sessions
from mirada.services.tokens import new_token, token_hash

SESSION_KEY = "sid"
DEVICE_COOKIE = "mirada_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
MAX_DEVICE_ACCOUNTS = 5

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    """The signed-in user of this request, if any."""
    return cast(User | None, g.get("user"))


PROBES = frozenset({"main.healthz", "main.readyz"})


def load_current_user() -> None:
    """Before each request: resolve the session cookie to a user, or sign the browser out."""
    g.user = None
    if request.endpoint in PROBES:  # answer whatever the database does, cookie or not
        return
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return
    row = sessions.resolve_session(
        session=db.session(),
        token=token,
        idle_lifetime=timedelta(hours=settings().session_idle_hours),
    )
    if row is None:
        # Only the sign-in goes: the page's CSRF token stays valid, so a form left open in
        # this browser (say, "Sign out") still works rather than answering 400.
        session.pop(SESSION_KEY, None)
        return
    _set_user(row.user)


def sign_in(user: User, *, remember: bool) -> None:
    """Start a fresh session for ``user`` (a new token, so a planted cookie is useless)."""
    config = settings()
    lifetime = (
        timedelta(days=config.remember_me_days)
        if remember
        else timedelta(hours=config.session_idle_hours)
    )
    token = sessions.start_session(
        session=db.session(),
        user=user,
        remember=remember,
        lifetime=lifetime,
        user_agent=request.headers.get("User-Agent", ""),
    )
    session.clear()
    session[SESSION_KEY] = token
    session.permanent = remember
    _set_user(user)
    g.remember_device = user.email


def _set_user(user: User) -> None:
    g.user = user
    g.user_choices = (user.locale, user.timezone)  # readable when the database is not


def choices_changed(user: User) -> None:
    """The user has just chosen another language or time zone: this request uses them."""
    g.user_choices = (user.locale, user.timezone)
    flask_babel.refresh()


def sign_out() -> None:
    """End this browser's session on the server and clear its cookie."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        sessions.end_session(session=db.session(), token=token)
    session.clear()
    g.user = None
    g.user_choices = (None, None)


def session_token() -> str | None:
    """This browser's session token."""
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(settings().secret_key, salt="mirada.known-device")


def _read_device_cookie() -> dict[str, Any] | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _device_serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    if not isinstance(data.get("accounts"), list):
        return None
    return data


def known_device(email: str) -> str | None:
    """This browser's device id if it has signed in to ``email`` before."""
    data = _read_device_cookie()
    if data is None or token_hash(email)[:16] not in data["accounts"]:
        return None
    return str(data["id"])


def remember_device(response: Any) -> Any:
    """After a successful sign-in: mark this browser as known to the account."""
    email = g.get("remember_device")
    if not email:
        return response
    data = _read_device_cookie() or {"id": new_token()[:22], "accounts": []}
    tag = token_hash(email)[:16]
    others = [a for a in data["accounts"] if a != tag][-(MAX_DEVICE_ACCOUNTS - 1) :]
    accounts = [*others, tag]
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps({"id": data["id"], "accounts": accounts}),
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        secure=request.is_secure,
        samesite="Lax",
    )
    return response


def login_required(view: F) -> F:
    """Send anonymous visitors to the sign-in page, then back."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def admin_required(view: F) -> F:
    """Only administrators; others get 403 (anonymous visitors are asked to sign in)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)
