"""``mirada users``: creating and listing accounts from a shell."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo

from mirada.cli import main
from mirada.db import User
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
