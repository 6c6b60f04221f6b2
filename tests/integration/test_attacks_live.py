"""Attacks from the hardening report, replayed against a real ``mirada serve`` on PostgreSQL.

One server (gunicorn, 2 workers, 8 threads each, the default limits) on a database built by the
real migrations; real sockets, real threads.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.live import Browser
from tests.support.mail import MailCatcher
from tests.support.server import mirada_serve, run_mirada, server_env
from tests.support.web import csrf_token_in

PASSWORD = "correct horse battery"
ALICE = "alice@example.org"
PER_ADDRESS = 20  # the default MIRADA_LOGIN_FAILURES_PER_ADDRESS
FLOOD = 100


@dataclass
class Live:
    url: str
    database_url: str


@pytest.fixture(scope="module")
def live(
    postgres_url: str,
    mail_catcher: MailCatcher,
    model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Live]:
    """``mirada serve`` with default limits, on a database of its own (PostgreSQL)."""
    url = make_url(postgres_url)
    name = f"{url.database}_attacks_{uuid.uuid4().hex[:6]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = url.set(database=name).render_as_string(hide_password=False)
    data_dir = tmp_path_factory.mktemp("attacks")
    env = server_env(
        data_dir,
        database_url,
        MIRADA_MAIL_SERVER="127.0.0.1",
        MIRADA_MAIL_PORT=str(mail_catcher.port),
        MIRADA_MODEL_PATH=str(model_path),
    )
    run_mirada(env, "db", "upgrade")
    run_mirada(env, "users", "create", ALICE, "--password-stdin", stdin=PASSWORD + "\n")
    try:
        with mirada_serve(env, "--workers", "2", "--threads", "8") as served:
            yield Live(url=f"http://127.0.0.1:{served.port}", database_url=database_url)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def failures(live: Live, key: str) -> int | None:
    engine = create_engine(live.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT failures FROM auth_throttle WHERE key = :key"), {"key": key}
            ).scalar()
    finally:
        engine.dispose()


def sign_in(browser: Browser, email: str, password: str) -> int:
    return browser.submit("/auth/login", {"email": email, "password": password}).status


def test_a_parallel_flood_is_counted_exactly_and_spares_a_known_device(live: Live) -> None:
    """The attack: 100 parallel bad logins from one address against random emails were
    checked 35 times against a limit of 20, two answered 500 (a unique violation), and
    then every user of that address got 429, known devices included."""
    owner = Browser(live.url)
    assert sign_in(owner, ALICE, PASSWORD) == 302
    assert owner.cookie("mirada_device") is not None
    sign_out = owner.request("/auth/logout", {"csrf_token": csrf_token_in(owner.get("/").body)})
    assert sign_out.status == 302  # signed out; the device cookie stays

    def bad_login(i: int) -> int:
        return sign_in(Browser(live.url), f"user{i}-{secrets.token_hex(4)}@example.org", "wrong")

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = Counter(pool.map(bad_login, range(FLOOD)))

    assert statuses == {401: PER_ADDRESS, 429: FLOOD - PER_ADDRESS}, statuses
    assert failures(live, "ip:127.0.0.1") == PER_ADDRESS
    stranger = Browser(live.url)
    assert sign_in(stranger, ALICE, PASSWORD) == 429  # a browser the account does not know
    assert sign_in(owner, ALICE, PASSWORD) == 302  # the owner's own browser
    assert owner.get("/account/").status == 200


def test_a_client_cannot_claim_https_without_a_configured_proxy(live: Live) -> None:
    """The attack: gunicorn believed X-Forwarded-Proto from 127.0.0.1 with
    MIRADA_PROXY_COUNT=0, so plain http got Secure cookies and HSTS."""
    browser = Browser(live.url)
    claimed = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"}

    page = browser.get("/auth/login", headers=claimed)

    assert page.status == 200
    assert "Strict-Transport-Security" not in page.headers
    cookies = page.headers.get_all("Set-Cookie") or []
    assert cookies, "the login page sets a session cookie"
    assert not any("Secure" in cookie for cookie in cookies), cookies
