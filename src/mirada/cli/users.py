"""``mirada users``: manage accounts from a shell (the first administrator, say)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from mirada.services import accounts
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
def create(email: str, admin: bool, display_name: str, password_stdin: bool) -> None:
    """Create an account for EMAIL (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.register(
            email=email, password=password, display_name=display_name, is_admin=admin
        )
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from exc
    kind = "administrator" if user.is_admin else "user"
    click.echo(f"Created {kind} {user.email} (id {user.id}).")


@users.command("list")
@with_appcontext
def list_users() -> None:
    """List accounts, newest first."""
    from mirada.services.admin import list_users as page_of_users

    page = 1
    while True:
        result = page_of_users(page=page, per_page=200)
        for user in result.users:
            flags = ",".join(
                flag
                for flag, on in (("admin", user.is_admin), ("disabled", not user.is_active))
                if on
            )
            click.echo(f"{user.id}\t{user.email}\t{flags}")
        if page >= result.pages:
            break
        page += 1


@users.command("invite")
@click.argument("email")
@with_appcontext
def invite(email: str) -> None:
    """Print an invitation link that lets EMAIL create an account (any MIRADA_SIGNUP mode)."""
    from mirada.runtime import settings
    from mirada.services import signups
    from mirada.web.links import external_url

    try:
        token = signups.invite(settings=settings(), email=email, invited_by=None)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(external_url("signup.invitation", token=token))
