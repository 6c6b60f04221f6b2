"""Whose project a command works on: ``--user EMAIL``, or the only account there is.

Shared by ``mirada projects`` and ``mirada classify --project``. The lookups go through
the services; this module only words what a shell user needs to hear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from mirada.cli.transactions import command_session
from mirada.db import Project, User
from mirada.presenters.refusals import refusal_text
from mirada.services import accounts
from mirada.services import projects as project_service
from mirada.services.errors import NotFound

MAX_USERS_LISTED = 10

F = TypeVar("F", bound=Callable[..., Any])


def user_option(command: F) -> F:
    """The ``--user EMAIL`` option every project command takes."""
    return click.option(
        "--user",
        "email",
        metavar="EMAIL",
        help="The owner of the project (may be left out while there is exactly one user).",
    )(command)


def resolve_user(email: str | None) -> User:
    """The user ``--user`` names, or the only user; a ClickException otherwise."""
    if email is not None:
        user = accounts.find_by_email(session=command_session(), email=email)
        if user is None:
            raise click.ClickException(f"{email}: {refusal_text(NotFound('user_not_found'))}")
        return user
    owners = project_service.project_owners(session=command_session(), limit=MAX_USERS_LISTED)
    if owners.count == 1:
        return owners.first[0]
    if not owners.first:
        raise click.ClickException(
            "There are no users yet. Create one with `mirada users create EMAIL`."
        )
    listed = ", ".join(user.email for user in owners.first)
    more = ", ..." if owners.count > len(owners.first) else ""
    raise click.ClickException(
        f"There are {owners.count} users: say whose project this is with --user EMAIL "
        f"({listed}{more})."
    )


def resolve_project(user: User, name: str) -> Project:
    """The user's project called ``name`` (any case); a ClickException when there is none."""
    try:
        return project_service.find_project(session=command_session(), user=user, name=name)
    except NotFound as exc:
        raise click.ClickException(
            f'"{name}": {refusal_text(exc)} {user.email} has no project of that name; see '
            "`mirada projects list`, or create it with `mirada projects create`."
        ) from None
