"""``mirada users``: manage accounts from a shell (the first administrator, say)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime

import click
from flask.cli import with_appcontext

from mirada.cli.transactions import command_session, committed
from mirada.db import User
from mirada.presenters.accounts import change_done
from mirada.presenters.refusals import refusal_text
from mirada.runtime import settings
from mirada.services import accounts, admin, signups
from mirada.services.errors import ServiceError


@click.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@with_appcontext
@committed
def create(email: str, admin: bool, display_name: str, password_stdin: bool) -> None:
    """Create an account for EMAIL (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.register(
            session=command_session(),
            email=email,
            password=password,
            display_name=display_name,
            is_admin=admin,
        )
    except ServiceError as exc:
        raise click.ClickException(refusal_text(exc)) from exc
    kind = "administrator" if user.is_admin else "user"
    click.echo(f"Created {kind} {user.email} (id {user.id}).")


# What ``mirada users`` says when the account already was as asked (the CLI's own words).
ALREADY = {
    "promote": "{email} is already an administrator.",
    "demote": "{email} is not an administrator.",
    "disable": "{email} is already disabled.",
    "enable": "{email} is already enabled.",
}


def _change(email: str, change: str) -> None:
    """Apply ``change`` to the account with ``email`` through the admin service, then say
    so as the user list does, or say that the account already was so."""
    try:
        session = command_session()
        user = admin.get_user_by_email(session=session, email=email)
        already = admin.change_account(session=session, actor=None, target=user, change=change)
    except ServiceError as exc:
        raise click.ClickException(f"{email}: {refusal_text(exc)}") from exc
    if already:
        click.echo(ALREADY[change].format(email=user.email))
    else:
        click.echo(change_done(change, email=user.email))


@users.command("promote")
@click.argument("email")
@with_appcontext
@committed
def promote(email: str) -> None:
    """Make the account with EMAIL an administrator."""
    _change(email, "promote")


@users.command("demote")
@click.argument("email")
@with_appcontext
@committed
def demote(email: str) -> None:
    """Take administration away from the account with EMAIL."""
    _change(email, "demote")


@users.command("disable")
@click.argument("email")
@with_appcontext
@committed
def disable(email: str) -> None:
    """Disable the account with EMAIL and sign it out everywhere."""
    _change(email, "disable")


@users.command("enable")
@click.argument("email")
@with_appcontext
@committed
def enable(email: str) -> None:
    """Let the account with EMAIL sign in again."""
    _change(email, "enable")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _all_users() -> Iterator[User]:
    page = 1
    while True:
        result = admin.list_users(session=command_session(), page=page, per_page=200)
        yield from result.users
        if page >= result.pages:
            return
        page += 1


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of lines.")
@with_appcontext
def list_users(as_json: bool) -> None:
    """List accounts, newest first (times in ISO 8601, UTC)."""
    if as_json:
        rows = [
            {
                "id": user.id,
                "email": user.email,
                "display_name": user.display_name,
                "is_admin": user.is_admin,
                "is_active": user.is_active,
                "locale": user.locale,
                "timezone": user.timezone,
                "created_at": _iso(user.created_at),
                "last_login_at": _iso(user.last_login_at),
            }
            for user in _all_users()
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for user in _all_users():
        flags = ",".join(
            flag for flag, on in (("admin", user.is_admin), ("disabled", not user.is_active)) if on
        )
        click.echo(f"{user.id}\t{user.email}\t{flags}")


@users.command("invite")
@click.argument("email")
@with_appcontext
@committed
def invite(email: str) -> None:
    """Print an invitation link that lets EMAIL create an account (any MIRADA_SIGNUP mode)."""
    from mirada.web.links import external_url  # the web's routes name the link

    try:
        token = signups.invite(
            session=command_session(), settings=settings(), email=email, invited_by=None
        )
    except ServiceError as exc:
        raise click.ClickException(refusal_text(exc)) from exc
    click.echo(external_url("signup.invitation", token=token))
