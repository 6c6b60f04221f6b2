"""A stopped or frozen database costs seconds and answers 503 with Retry-After, never a hang.

A real ``mirada serve`` runs on a private PostgreSQL instance (tests/support/postgres.py),
which the tests stop and freeze (SIGSTOP) — never the shared one.
"""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from mirada.db.app_session import db
from mirada.db.engine import without_time_limits
from tests.integration.helpers import add_user
from tests.support.postgres import PrivatePostgres, private_postgres  # noqa: F401 - a fixture
from tests.support.server import get, mirada_serve, run_mirada, server_env
from tests.support.web import WebClient, csrf_token_in

EMAIL, PASSWORD = "ann@example.com", "correct horse battery"
HTTP_TIMEOUT_S = 20.0  # well above the few seconds a fault may cost
RECOVERY_S = 30.0


class Browser:
    """Cookies, forms with their CSRF token, and the status of every answer (errors included)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(
        self, path: str, data: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=HTTP_TIMEOUT_S) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def login(self) -> tuple[int, dict[str, str], str]:
        _, _, page = self.open("/auth/login")
        form = {"csrf_token": csrf_token_in(page), "email": EMAIL, "password": PASSWORD}
        return self.open("/auth/login", form)


@pytest.fixture
def served(private_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[int]:  # noqa: F811
    """``mirada serve`` on the private database, with one account; yields its port."""
    env = server_env(tmp_path / "data", private_postgres.url, MIRADA_DB_STATEMENT_TIMEOUT_S="3")
    run_mirada(env, "db", "upgrade")
    run_mirada(env, "users", "create", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    with mirada_serve(env, "--workers", "1", "--threads", "4") as server:
        yield server.port


def assert_unavailable(status: int, headers: dict[str, str]) -> None:
    assert status == 503
    assert int(headers["Retry-After"]) > 0


def assert_recovers(browser: Browser) -> None:
    """Without a restart: ready again, and the signed-in page answers."""
    deadline = time.monotonic() + RECOVERY_S
    while browser.open("/readyz")[0] != 200:
        assert time.monotonic() < deadline, "the app did not recover by itself"
        time.sleep(0.5)
    assert browser.open("/projects")[0] == 200


def outage_checks(port: int, browser: Browser) -> None:
    """What every client sees while the database is away."""
    assert_unavailable(*browser.open("/projects")[:2])
    assert_unavailable(*Browser(port).login()[:2])
    ready = get(port, "/readyz", timeout=HTTP_TIMEOUT_S)
    assert_unavailable(ready.status, dict(ready.headers))
    assert get(port, "/healthz", timeout=HTTP_TIMEOUT_S).status == 200
    assert get(port, "/", timeout=HTTP_TIMEOUT_S).status == 200


def test_a_stopped_database_answers_503_with_retry_after(
    served: int,
    private_postgres: PrivatePostgres,  # noqa: F811
) -> None:
    browser = Browser(served)
    assert browser.login()[0] == 200
    assert browser.open("/projects")[0] == 200

    private_postgres.stop()
    outage_checks(served, browser)
    assert "Try again in a moment" in Browser(served).login()[2]

    private_postgres.start()
    assert_recovers(browser)


def test_a_frozen_database_answers_503_within_seconds(
    served: int,
    private_postgres: PrivatePostgres,  # noqa: F811
) -> None:
    browser = Browser(served)
    assert browser.login()[0] == 200
    assert browser.open("/projects")[0] == 200

    private_postgres.freeze()
    outage_checks(served, browser)
    outage_checks(served, browser)  # again: no thread is left stuck behind the first ones

    private_postgres.thaw()
    assert_recovers(browser)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_waits_on_locks_and_writes_ahead(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 5000,
        "foreign_keys": 1,
    }


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_sessions_carry_statement_and_lock_timeouts(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        statement = connection.exec_driver_sql("SHOW statement_timeout").scalar()
        lock = connection.exec_driver_sql("SHOW lock_timeout").scalar()
    assert (statement, lock) == ("15s", "5s")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_migrations_run_without_the_request_time_limits(app: Flask) -> None:
    def timeouts(connection: Connection) -> tuple[str, str]:
        statement = connection.exec_driver_sql("SHOW statement_timeout").scalar()
        lock = connection.exec_driver_sql("SHOW lock_timeout").scalar()
        return str(statement), str(lock)

    with app.app_context(), db.engine.connect() as connection:
        with without_time_limits(connection):
            assert timeouts(connection) == ("0", "0")
            assert connection.connection.dbapi_connection.deadline_s is None  # type: ignore[union-attr]
        assert timeouts(connection) == ("15s", "5s")
        assert connection.connection.dbapi_connection.deadline_s == 16.0  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_database_lost_in_the_middle_of_a_page_answers_503_in_the_users_language(
    app: Flask, web: WebClient
) -> None:
    """The user was loaded, then the database went away (a freeze, a dropped connection):
    the 503 page must not need the database again to name the user's language."""
    add_user(app, "ana@example.org")
    assert web.login("ana@example.org").status_code == 302
    web.submit("/account/", {"display_name": "Ana", "locale": "es"}, action="/account/profile")
    down = {"now": False}

    def fail_when_down(*_args: object) -> None:
        if down["now"]:
            raise sa_exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    def lose_the_database_after_the_user() -> None:
        if g.get("user") is not None:
            db.session.commit()  # the user is expired, as after any commit or rollback
            down["now"] = True

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", fail_when_down)
    app.before_request_funcs.setdefault(None, []).append(lose_the_database_after_the_user)
    try:
        response = web.get("/projects")
    finally:
        down["now"] = False
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "La base de datos no responde" in response.get_data(as_text=True)
