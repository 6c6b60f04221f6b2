"""Small helpers for the integration tests: users, row counts, signed-in browsers."""

from __future__ import annotations

import re
from functools import cache
from html import unescape
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from mirada.db import User
from mirada.db.app_session import db
from mirada.services import passwords
from tests.support.web import WebClient

PASSWORD = "correct horse battery"  # WebClient's default password
NEW_PASSWORD = "a brand new passphrase"


@cache
def _password_hash(password: str) -> str:
    """A real argon2id hash, computed once per password to keep the suite fast."""
    return passwords.hash_password(password)


def add_user(
    app: Flask,
    email: str,
    *,
    password: str = PASSWORD,
    admin: bool = False,
    active: bool = True,
    display_name: str = "",
) -> int:
    """Store an account directly (the page is not what these tests are about); its id."""
    with app.app_context():
        user = User(
            email=email.lower(),
            display_name=display_name,
            password_hash=_password_hash(password),
            is_admin=admin,
            is_active=active,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def deliver_mail(app: Flask) -> None:
    """Wait until the background work of the app (its mail) has finished."""
    app.extensions["mirada.later"].flush()


def count(app: Flask, model: type[Any], *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def get_user(app: Flask, email: str) -> User | None:
    """The stored user with this (lower-case) email, detached from the session."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def signed_in(app: Flask, email: str, password: str = PASSWORD, **extra: Any) -> WebClient:
    """A new browser signed in as ``email``."""
    web = WebClient(app)
    response = web.login(email, password, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)
    return web


def is_signed_in(web: WebClient) -> bool:
    """Whether the browser's next request is made as a signed-in user."""
    response = web.get("/account/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    return False


def text(response: TestResponse) -> str:
    """The response body with HTML entities decoded (apostrophes, ampersands)."""
    return unescape(response.get_data(as_text=True))


def errors_of(response: TestResponse, field: str) -> list[str]:
    """The error messages shown under a form field."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    if match is None:
        return []
    return [unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def form_errors_of(response: TestResponse) -> list[str]:
    """The messages of the alert above a form (errors not tied to one field)."""
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', html, re.S)
    if match is None:
        return []
    return [unescape(m) for m in re.findall(r"<p>(.*?)</p>", match.group(1), re.S)]


def flashes_of(response: TestResponse) -> list[str]:
    """The flash messages shown on a page."""
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', html, re.S)]


def session_cookie(web: WebClient) -> str:
    """The value of the browser's session cookie."""
    cookie = web.client.get_cookie("mirada_session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def set_cookie_header(response: TestResponse, name: str) -> str | None:
    """The Set-Cookie header that sets ``name``, if any."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None
