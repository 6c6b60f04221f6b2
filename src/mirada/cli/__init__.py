"""The ``mirada`` command line: the Flask CLI of the app plus Mirada's own groups."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup
from sqlalchemy import exc as sa_exc

from mirada.cli.classify import classify
from mirada.cli.inference import inference
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


class MiradaGroup(FlaskGroup):
    """Flask's command group, with one line instead of a traceback when the database is away."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except sa_exc.DBAPIError as error:  # refused, frozen, out of connections
            reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            raise click.ClickException(f"The database is not answering: {reason}") from None


@click.group(cls=MiradaGroup, create_app=_create_app, add_version_option=True, load_dotenv=False)
def main() -> None:
    """Mirada: self-hosted image classification."""


main.add_command(classify)
main.add_command(inference)
main.add_command(model)
main.add_command(projects)
projects.add_command(train)
main.add_command(serve)
main.add_command(storage)
main.add_command(translate)
main.add_command(users)
