"""``mirada users``: creating and listing accounts from a shell."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo

from mirada.cli import main
from mirada.db import User
from mirada.web import create_app
from tests.conftest import make_settings
from tests.integration.helpers import PASSWORD, add_user, count, get_user, is_signed_in
from tests.support.web import WebClient


@pytest.fixture(autouse=True)
def restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask's CLI sets FLASK_RUN_FROM_CLI; let monkeypatch put it back afterwards."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")


def mirada(app: Flask, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app), input=input)


def test_creating_an_administrator_from_stdin(app: Flask) -> None:
    result = mirada(
        app,
        "users",
        "create",
        "Root@Example.org",
        "--admin",
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    user = get_user(app, "root@example.org")
    assert user is not None
    assert result.output.strip() == f"Created administrator root@example.org (id {user.id})."
    assert user.is_admin is True
    assert user.is_active is True
    assert user.password_hash.startswith("$argon2id$")
    web = WebClient(app)
    assert web.login("root@example.org", PASSWORD).status_code == 302
    assert web.get("/admin/users").status_code == 200


def test_creating_a_user_with_a_name(app: Flask) -> None:
    result = mirada(
        app,
        "users",
        "create",
        "ann@example.org",
        "--name",
        "Ann  Lee",
        "--password-stdin",
        input=f"{PASSWORD}\r\n",
    )

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created user ann@example.org (id ")
    user = get_user(app, "ann@example.org")
    assert user is not None
    assert (user.display_name, user.is_admin) == ("Ann Lee", False)
    web = WebClient(app)
    assert web.login("ann@example.org", PASSWORD).status_code == 302
    assert is_signed_in(web)


def test_the_password_can_be_typed_at_a_prompt(app: Flask) -> None:
    result = mirada(app, "users", "create", "ann@example.org", input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Created user ann@example.org" in result.output
    assert PASSWORD not in result.output
    assert count(app, User) == 1


COMMON = "This password is too common. Choose one that is harder to guess."


def test_a_weak_password_is_refused(app: Flask, subtests) -> None:
    for case, (password, message) in {
        "common": ("password1234", COMMON),
        "short": ("short", "Use at least 8 characters."),
        "the-email": ("ann@example.org", COMMON),
        "empty": ("", "Use at least 8 characters."),
    }.items():
        with subtests.test(case):
            result = mirada(
                app,
                "users",
                "create",
                "ann@example.org",
                "--admin",
                "--password-stdin",
                input=f"{password}\n",
            )

            assert result.exit_code != 0
            assert message in result.output
            assert "Traceback" not in result.output
    assert count(app, User) == 0


def test_an_invalid_email_is_refused(app: Flask) -> None:
    result = mirada(
        app, "users", "create", "not-an-email", "--password-stdin", input=f"{PASSWORD}\n"
    )

    assert result.exit_code != 0
    assert "Enter a valid email address." in result.output
    assert count(app, User) == 0


def test_a_duplicate_is_refused(app: Flask) -> None:
    add_user(app, "ann@example.org")

    result = mirada(
        app,
        "users",
        "create",
        "ANN@example.org",
        "--admin",
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )

    assert result.exit_code != 0
    assert "An account with this email already exists." in result.output
    assert count(app, User) == 1
    assert get_user(app, "ann@example.org").is_admin is False  # type: ignore[union-attr]


def test_listing_users_newest_first_with_their_flags(app: Flask) -> None:
    root = add_user(app, "root@example.org", admin=True)
    ann = add_user(app, "ann@example.org")
    gone = add_user(app, "gone@example.org", active=False)

    result = mirada(app, "users", "list")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{gone}\tgone@example.org\tdisabled",
        f"{ann}\tann@example.org\t",
        f"{root}\troot@example.org\tadmin",
    ]


def test_a_user_created_on_the_command_line_is_listed(app: Flask) -> None:
    add_user(app, "root@example.org", admin=True)
    created = mirada(
        app, "users", "create", "ann@example.org", "--password-stdin", input=f"{PASSWORD}\n"
    )
    assert created.exit_code == 0, created.output

    result = mirada(app, "users", "list")

    assert [line.split("\t")[1] for line in result.output.splitlines()] == [
        "ann@example.org",
        "root@example.org",
    ]


def test_promoting_an_existing_account_lets_it_administer(app: Flask) -> None:
    add_user(app, "ann@example.org")

    result = mirada(app, "users", "promote", "ANN@example.org")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ann@example.org is now an administrator."
    assert get_user(app, "ann@example.org").is_admin is True  # type: ignore[union-attr]
    web = WebClient(app)
    assert web.login("ann@example.org", PASSWORD).status_code == 302
    assert web.get("/admin/users").status_code == 200
    again = mirada(app, "users", "promote", "ann@example.org")
    assert again.output.strip() == "ann@example.org is already an administrator."


def test_demoting_an_administrator(app: Flask) -> None:
    add_user(app, "root@example.org", admin=True)
    add_user(app, "ann@example.org", admin=True)

    result = mirada(app, "users", "demote", "ann@example.org")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ann@example.org is no longer an administrator."
    assert get_user(app, "ann@example.org").is_admin is False  # type: ignore[union-attr]
    web = WebClient(app)
    assert web.login("ann@example.org", PASSWORD).status_code == 302
    assert web.get("/admin/users").status_code == 403


def test_disabling_signs_the_account_out_and_enabling_lets_it_back(app: Flask) -> None:
    add_user(app, "ann@example.org")
    web = WebClient(app)
    assert web.login("ann@example.org", PASSWORD).status_code == 302

    disabled = mirada(app, "users", "disable", "ann@example.org")

    assert disabled.exit_code == 0, disabled.output
    assert disabled.output.strip() == "ann@example.org is disabled and signed out."
    assert not is_signed_in(web)
    assert web.login("ann@example.org", PASSWORD).status_code == 403

    enabled = mirada(app, "users", "enable", "ann@example.org")

    assert enabled.exit_code == 0, enabled.output
    assert enabled.output.strip() == "ann@example.org is enabled."
    assert web.login("ann@example.org", PASSWORD).status_code == 302


def test_an_unknown_email_is_refused_by_every_command(app: Flask, subtests) -> None:
    add_user(app, "ann@example.org")
    for command in ("promote", "demote", "disable", "enable"):
        for email in ("nobody@example.org", "not-an-email"):
            with subtests.test(command=command, email=email):
                result = mirada(app, "users", command, email)

                assert result.exit_code == 1
                assert result.output.strip() == f"Error: {email}: No such user."
    assert get_user(app, "ann@example.org").is_admin is False  # type: ignore[union-attr]


def test_the_last_active_administrator_cannot_be_demoted_or_disabled(app: Flask, subtests) -> None:
    add_user(app, "root@example.org", admin=True)
    add_user(app, "old@example.org", admin=True, active=False)
    for command in ("demote", "disable"):
        with subtests.test(command):
            result = mirada(app, "users", command, "root@example.org")

            assert result.exit_code == 1
            assert "This is the last active administrator; make another one first." in (
                result.output
            )
            root = get_user(app, "root@example.org")
            assert (root.is_admin, root.is_active) == (True, True)  # type: ignore[union-attr]

    promoted = mirada(app, "users", "promote", "ann@example.org")
    assert promoted.exit_code == 1  # no such account yet: nothing changes
    add_user(app, "ann@example.org")
    assert mirada(app, "users", "promote", "ann@example.org").exit_code == 0
    assert mirada(app, "users", "demote", "root@example.org").exit_code == 0


def test_listing_users_as_json(app: Flask) -> None:
    root = add_user(app, "root@example.org", admin=True, display_name="Root")
    gone = add_user(app, "gone@example.org", active=False)

    result = mirada(app, "users", "list", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["email"], r["is_admin"], r["is_active"]) for r in rows] == [
        (gone, "gone@example.org", False, False),
        (root, "root@example.org", True, True),
    ]
    assert rows[1]["display_name"] == "Root"
    assert (rows[1]["locale"], rows[1]["timezone"]) == (None, None)
    assert rows[1]["last_login_at"] is None
    created = datetime.fromisoformat(rows[1]["created_at"])
    assert created.utcoffset() == timedelta(0)


def test_a_database_that_does_not_answer_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Nothing listens on the database's port: the command says so and exits 1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # free once the probe closes: nothing listens
    url = f"postgresql+psycopg://mirada@127.0.0.1:{closed_port}/mirada"
    down = create_app(make_settings(tmp_path, url))

    result = mirada(down, "users", "list")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: The database is not answering: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
