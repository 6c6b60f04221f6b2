"""``mirada projects``: create, list and fill projects from a shell, no server needed.

Every command runs in the app context and goes through the services, as the web pages
do; each is one transaction (``@committed``). ``--user`` names the owner; it may be left
out while exactly one account exists. ``train`` lives in ``cli/training.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from mirada import runtime
from mirada.cli.owners import resolve_project, resolve_user, user_option
from mirada.cli.project_import import Importer, Tally, import_sources, sources_of
from mirada.cli.project_import import summary as import_summary
from mirada.cli.transactions import command_session, committed
from mirada.presenters.refusals import refusal_text
from mirada.services import projects as project_service
from mirada.services.errors import ServiceError


def _refusal(exc: ServiceError) -> click.ClickException:
    return click.ClickException(refusal_text(exc))


@click.group()
def projects() -> None:
    """Projects: your own classes, trained on the frozen backbone."""


# create, list


@projects.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the project is for.")
@user_option
@with_appcontext
@committed
def create(name: str, description: str, email: str | None) -> None:
    """Create an empty project called NAME."""
    user = resolve_user(email)
    try:
        project = project_service.create_project(
            session=command_session(), user=user, name=name, description=description
        )
    except ServiceError as exc:
        raise _refusal(exc) from None
    click.echo(f"Created project {project.name} (id {project.id}) for {user.email}.")


def _project_row(summary: project_service.ProjectSummary) -> dict[str, Any]:
    project, version = summary.project, summary.project.serving_version
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "classes": summary.class_count,
        "examples": summary.example_count,
        "serving_version": version.number if version is not None else None,
        "accuracy": version.metrics.get("accuracy") if version is not None else None,
    }


@projects.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per project and line.")
@user_option
@with_appcontext
def list_projects(as_json: bool, email: str | None) -> None:
    """List the projects by name.

    Columns, tab separated: name, classes, examples, the serving version (v1, v2, ...; "-"
    when none is trained) and its accuracy on examples it did not train on.
    """
    user = resolve_user(email)
    for summary in project_service.project_summaries(session=command_session(), user=user):
        row = _project_row(summary)
        if as_json:
            click.echo(json.dumps(row))
            continue
        version, accuracy = row["serving_version"], row["accuracy"]
        cells = [
            row["name"],
            str(row["classes"]),
            str(row["examples"]),
            f"v{version}" if version is not None else "-",
            f"{accuracy:.3f}" if accuracy is not None else "-",
        ]
        click.echo("\t".join(cells))


# import


@projects.command("import")
@click.argument("name")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@user_option
@with_appcontext
@committed
def import_examples(name: str, source: Path, email: str | None) -> None:
    """Add the images under SOURCE to project NAME as labelled examples.

    SOURCE is a folder with one sub-folder per class (SOURCE/CLASS/IMAGE), or a .zip
    file laid out the same way (optionally inside one top folder). Missing classes are
    created; hidden files are skipped; a file the project already holds counts as a
    duplicate; a refused file is reported by name with the reason and does not stop
    the others. Embeddings are computed by `mirada projects train`.

    Exit status: 0 when at least one file was added, or when nothing was refused (all
    duplicates); 1 when files were refused and none added, or SOURCE holds no file.
    """
    user = resolve_user(email)
    project = resolve_project(user, name)
    settings = runtime.settings()
    session = command_session()
    importer = Importer(
        session=session,
        project=project,
        settings=settings,
        blobs=runtime.blobs(),
        budget=runtime.decode_budget(),
    )
    with sources_of(source, settings) as (sources, refused):
        if not sources and not refused:
            raise click.ClickException(f"{source} holds no files to import.")
        classes_before = len(project.classes)
        tally = Tally(refused=list(refused))
        try:
            import_sources(importer, sources, tally)
        except ServiceError as exc:  # refused whole, e.g. over the owner's limits
            raise click.ClickException(refusal_text(exc)) from None
        session.refresh(project)
        new_classes = len(project.classes) - classes_before
        click.echo("\n".join(import_summary(project, tally, new_classes)))
        if tally.added == 0 and tally.refused:
            sys.exit(1)


# train
