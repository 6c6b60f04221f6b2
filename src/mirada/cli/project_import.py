"""``mirada projects import``: the files of a folder or a zip, added in chunks as examples.

The reasons a file is skipped and the refusals are worded by ``mirada.presenters``, as on
the pages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
from sqlalchemy.orm import Session

from mirada.config import Settings
from mirada.db import Project
from mirada.presenters.refusals import refusal_text
from mirada.presenters.uploads import skip_text
from mirada.services import examples as example_service
from mirada.services.archives import unpacked_archive
from mirada.services.errors import ServiceError
from mirada.storage import BlobStore
from mirada.vision.budget import DecodeBudget

IMPORT_CHUNK = 32  # files read and stored at a time: bounds the memory an import needs


@dataclass(frozen=True)
class Source:
    """A file to import: how the summary names it, its class, and how to read its bytes."""

    name: str
    class_name: str
    read: Callable[[], bytes]


@dataclass
class Tally:
    """What an import did so far; ``refused`` pairs a file's name with the reason."""

    added: int = 0
    duplicates: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Importer:
    """What adding examples takes: the session and the adapters the command resolved."""

    session: Session
    project: Project
    settings: Settings
    blobs: BlobStore
    budget: DecodeBudget


def _read_file(path: Path, limit: int) -> Callable[[], bytes]:
    def read() -> bytes:
        with path.open("rb") as handle:
            return handle.read(limit + 1)  # enough for the intake to tell it is too large

    return read


def _folder_sources(folder: Path, settings: Settings) -> tuple[list[Source], list[tuple[str, str]]]:
    """The files of ``folder/CLASS/``, sorted, hidden ones skipped; misplaced ones and links
    refused."""
    sources: list[Source] = []
    refused: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if len(relative.parts) != 2:
            refused.append((relative.as_posix(), skip_text("not_in_class_folder")))
            continue
        if path.is_symlink() or path.parent.is_symlink():  # as in a zip: links are not followed
            refused.append((relative.as_posix(), skip_text("link")))
            continue
        read = _read_file(path, settings.max_upload_bytes)
        sources.append(Source(relative.as_posix(), relative.parts[0], read))
    return sources, refused


@contextmanager
def sources_of(
    source: Path, settings: Settings
) -> Iterator[tuple[list[Source], list[tuple[str, str]]]]:
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
                workdir=settings.unpack_dir,
                max_entries=settings.max_archive_entries,
                max_total_bytes=settings.max_archive_bytes,
                max_file_bytes=settings.max_upload_bytes,
            ) as (entries, skipped),
        ):
            sources = [
                Source(
                    f"{entry.class_name}/{entry.filename}",
                    entry.class_name,
                    _read_file(entry.path, settings.max_upload_bytes),
                )
                for entry in entries
            ]
            yield sources, [(e.filename, skip_text(e.code)) for e in skipped]
    except ServiceError as exc:
        raise click.ClickException(refusal_text(exc)) from None


def _add_chunk(importer: Importer, chunk: Sequence[Source], tally: Tally) -> None:
    uploads: list[example_service.LabelledUpload] = []
    names: list[str] = []
    for source in chunk:
        try:
            data = source.read()
        except OSError as exc:
            tally.refused.append((source.name, f"The file cannot be read: {exc.strerror or exc}."))
            continue
        uploads.append(example_service.LabelledUpload(source.class_name, source.name, data))
        names.append(source.name)
    outcomes = example_service.add_examples(
        session=importer.session,
        project=importer.project,
        uploads=uploads,
        settings=importer.settings,
        blobs=importer.blobs,
        budget=importer.budget,
        create_classes=True,
        checkpoint=importer.session.commit,  # a long import keeps no write lock to its end
    )
    for name, outcome in zip(names, outcomes, strict=True):
        if outcome.example is not None:
            tally.added += 1
        elif outcome.error is not None and outcome.error.code == "duplicate":
            tally.duplicates += 1
        else:
            message = refusal_text(outcome.error) if outcome.error is not None else "refused"
            tally.refused.append((name, message))


def import_sources(importer: Importer, sources: list[Source], tally: Tally) -> None:
    """Add ``sources`` in chunks, with a progress bar on stderr."""
    with click.progressbar(
        length=len(sources), label="Importing", file=sys.stderr, hidden=not sources
    ) as bar:
        for start in range(0, len(sources), IMPORT_CHUNK):
            chunk = sources[start : start + IMPORT_CHUNK]
            _add_chunk(importer, chunk, tally)
            bar.update(len(chunk))


def summary(project: Project, tally: Tally, new_classes: int) -> list[str]:
    """The lines an import ends with: counts, then each refused file with its reason."""
    lines = [
        f"Added {_counted(tally.added, 'example')} to {project.name} "
        f"({_counted(new_classes, 'new class', 'new classes')}); "
        f"{_counted(tally.duplicates, 'duplicate')} skipped; {len(tally.refused)} refused"
        + (":" if tally.refused else ".")
    ]
    return lines + [f"  {filename}: {reason}" for filename, reason in sorted(tally.refused)]


def _counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun, singular or plural (the CLI speaks English)."""
    return f"{n} {one if n == 1 else many or one + 's'}"
