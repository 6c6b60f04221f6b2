"""``mirada projects``: create, fill and train projects from a shell, no server needed.

Every command runs in the app context and goes through the services, as the web pages
do. ``--user`` names the owner; it may be left out while exactly one account exists.
Training runs in this process (the command waits for it): the embedded mode's job
threads live in the web server, and this one-shot process has no other worker to hand
the job to. The training services (scikit-learn) load only when ``train`` runs, so
that the rest of the ``mirada`` command starts quickly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from mirada import runtime
from mirada.config import Settings
from mirada.db import Project, User, db
from mirada.presenters.refusals import refusal_text
from mirada.services import accounts
from mirada.services import projects as project_service
from mirada.services.archives import unpacked_archive
from mirada.services.errors import ServiceError

IMPORT_CHUNK = 32  # files read and stored at a time: bounds the memory an import needs
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
        user = accounts.find_by_email(email)
        if user is None:
            raise click.ClickException(f"There is no user with the email address {email}.")
        return user
    users = list(db.session.scalars(select(User).order_by(User.email).limit(MAX_USERS_LISTED)))
    if len(users) == 1:
        return users[0]
    if not users:
        raise click.ClickException(
            "There are no users yet. Create one with `mirada users create EMAIL`."
        )
    count = accounts.count_users(session=db.session())
    listed = ", ".join(user.email for user in users) + (", ..." if count > len(users) else "")
    raise click.ClickException(
        f"There are {count} users: say whose project this is with --user EMAIL ({listed})."
    )


def resolve_project(user: User, name: str) -> Project:
    """The user's project called ``name`` (any case); a ClickException when there is none."""
    try:
        return project_service.find_project(user=user, name=name)
    except ServiceError:
        raise click.ClickException(
            f'{user.email} has no project called "{name}". '
            "See `mirada projects list`, or create it with `mirada projects create`."
        ) from None


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
def create(name: str, description: str, email: str | None) -> None:
    """Create an empty project called NAME."""
    user = resolve_user(email)
    try:
        project = project_service.create_project(user=user, name=name, description=description)
    except ServiceError as exc:
        raise _refusal(exc) from None
    click.echo(f"Created project {project.name} (id {project.id}) for {user.email}.")


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
    for project in project_service.list_projects(user=user):
        counts = project_service.class_counts(project=project)
        version = project.serving_version
        accuracy = version.metrics.get("accuracy") if version is not None else None
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "id": project.id,
                        "name": project.name,
                        "description": project.description,
                        "classes": len(counts),
                        "examples": sum(counts.values()),
                        "serving_version": version.number if version is not None else None,
                        "accuracy": accuracy,
                    }
                )
            )
        else:
            cells = [
                project.name,
                str(len(counts)),
                str(sum(counts.values())),
                f"v{version.number}" if version is not None else "-",
                f"{accuracy:.3f}" if accuracy is not None else "-",
            ]
            click.echo("\t".join(cells))


# import


@dataclass(frozen=True)
class _Source:
    """A file to import: how the summary names it, its class, and how to read its bytes."""

    name: str
    class_name: str
    read: Callable[[], bytes]


@dataclass
class _Tally:
    """What an import did so far; ``refused`` pairs a file's name with the reason."""

    added: int = 0
    duplicates: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


SKIP_REASONS = {
    "not_in_class_folder": "Not inside a class folder: put images in SOURCE/CLASS/.",
    "too_large": "The file is larger than the upload limit.",
    "corrupt": "The archive entry is damaged and cannot be read.",
    "encrypted": "The archive entry is encrypted and cannot be read.",
}


def _read_file(path: Path, limit: int) -> Callable[[], bytes]:
    def read() -> bytes:
        with path.open("rb") as handle:
            return handle.read(limit + 1)  # enough for the intake to tell it is too large

    return read


def _folder_sources(
    folder: Path, settings: Settings
) -> tuple[list[_Source], list[tuple[str, str]]]:
    """The files of ``folder/CLASS/``, sorted, hidden ones skipped; misplaced ones refused."""
    sources: list[_Source] = []
    refused: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if len(relative.parts) != 2:
            refused.append((relative.as_posix(), SKIP_REASONS["not_in_class_folder"]))
            continue
        read = _read_file(path, settings.max_upload_bytes)
        sources.append(_Source(relative.as_posix(), relative.parts[0], read))
    return sources, refused


@contextmanager
def _sources(
    source: Path, settings: Settings
) -> Iterator[tuple[list[_Source], list[tuple[str, str]]]]:
    """The files to import from a folder or a zip (extracted for the block's duration)."""
    if source.is_dir():
        yield _folder_sources(source, settings)
        return
    if source.stat().st_size > settings.max_archive_bytes:
        raise click.ClickException(
            f"The archive is larger than the limit of {settings.max_archive_bytes // 1_000_000} MB."
        )
    try:
        with (
            source.open("rb") as stream,
            unpacked_archive(
                stream,
                workdir=settings.resolved_data_dir / "tmp",
                max_entries=settings.max_archive_entries,
                max_total_bytes=settings.max_archive_bytes,
                max_file_bytes=settings.max_upload_bytes,
            ) as (entries, skipped),
        ):
            sources = [
                _Source(
                    f"{entry.class_name}/{entry.filename}",
                    entry.class_name,
                    _read_file(entry.path, settings.max_upload_bytes),
                )
                for entry in entries
            ]
            refused = [(e.filename, SKIP_REASONS.get(e.code, e.code)) for e in skipped]
            yield sources, refused
    except ServiceError as exc:
        raise _refusal(exc) from None


def _add_chunk(
    project: Project, chunk: Sequence[_Source], settings: Settings, tally: _Tally
) -> None:
    uploads: list[project_service.LabelledUpload] = []
    names: list[str] = []
    for source in chunk:
        try:
            data = source.read()
        except OSError as exc:
            tally.refused.append((source.name, f"The file cannot be read: {exc.strerror or exc}."))
            continue
        uploads.append(project_service.LabelledUpload(source.class_name, source.name, data))
        names.append(source.name)
    outcomes = project_service.add_examples(
        project=project,
        uploads=uploads,
        settings=settings,
        blobs=runtime.blobs(),
        budget=runtime.decode_budget(),
        create_classes=True,
    )
    for name, outcome in zip(names, outcomes, strict=True):
        if outcome.example is not None:
            tally.added += 1
        elif outcome.error is not None and outcome.error.code == "duplicate":
            tally.duplicates += 1
        else:
            message = refusal_text(outcome.error) if outcome.error is not None else "refused"
            tally.refused.append((name, str(message)))


@projects.command("import")
@click.argument("name")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@user_option
@with_appcontext
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
    with _sources(source, settings) as (sources, refused):
        if not sources and not refused:
            raise click.ClickException(f"{source} holds no files to import.")
        classes_before = len(project.classes)
        tally = _Tally()
        tally.refused.extend(refused)
        with click.progressbar(
            length=len(sources), label="Importing", file=sys.stderr, hidden=not sources
        ) as bar:
            for start in range(0, len(sources), IMPORT_CHUNK):
                chunk = sources[start : start + IMPORT_CHUNK]
                _add_chunk(project, chunk, settings, tally)
                bar.update(len(chunk))
        db.session.refresh(project)
        new_classes = len(project.classes) - classes_before
        click.echo(
            f"Added {tally.added} examples to {project.name} ({new_classes} new classes); "
            f"{tally.duplicates} duplicates skipped; {len(tally.refused)} refused"
            + (":" if tally.refused else ".")
        )
        for filename, reason in sorted(tally.refused):
            click.echo(f"  {filename}: {reason}")
        if tally.added == 0 and tally.refused:
            sys.exit(1)
