"""The ``mirada`` command line: the Flask CLI of the app plus Mirada's own groups."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from mirada.cli.classify import classify
from mirada.cli.model import model
from mirada.cli.projects import projects
from mirada.cli.serve import serve
from mirada.cli.storage import storage
from mirada.cli.training import train
from mirada.cli.translate import translate
from mirada.cli.users import users


def _create_app():  # type: ignore[no-untyped-def]
    from mirada.web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=True, load_dotenv=False)
def main() -> None:
    """Mirada: self-hosted image classification."""


main.add_command(classify)
main.add_command(model)
main.add_command(projects)
projects.add_command(train)
main.add_command(serve)
main.add_command(storage)
main.add_command(translate)
main.add_command(users)
