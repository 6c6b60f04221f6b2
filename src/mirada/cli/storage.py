"""``mirada storage``: keep the blob store and the database in step."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from mirada.cli.transactions import command_session
from mirada.runtime import blobs, settings
from mirada.services.archives import sweep_unpacked
from mirada.services.orphans import sweep_orphans


@click.group()
def storage() -> None:
    """The blob store (photos, thumbnails, trained heads)."""


@storage.command("sweep")
@click.option(
    "--grace-s",
    type=click.IntRange(min=0),
    default=None,
    help="Leave files younger than this many seconds (default: MIRADA_ORPHAN_GRACE_S).",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@with_appcontext
def sweep(grace_s: int | None, dry_run: bool) -> None:
    """Delete files that no database row owns (left by a process killed mid-upload), and
    the folders of zip imports that a killed process never removed.

    Run it from cron, say hourly; files younger than the grace period may belong to
    uploads still in flight and are left alone.
    """
    grace = timedelta(seconds=settings().orphan_grace_s if grace_s is None else grace_s)
    result = sweep_orphans(session=command_session(), blobs=blobs(), grace=grace, dry_run=dry_run)
    unpacked = sweep_unpacked(workdir=settings().unpack_dir, older_than=grace, dry_run=dry_run)
    for key in result.deleted:
        click.echo(key)
    for folder in unpacked:
        click.echo(str(folder))
    if dry_run:
        click.echo(
            f"Would delete {len(result.deleted)} unowned file(s) and "
            f"{len(unpacked)} abandoned import folder(s).",
            err=True,
        )
        return
    click.echo(
        f"Deleted {len(result.deleted)} unowned file(s) and {len(unpacked)} abandoned import "
        f"folder(s); removed {result.partial} unfinished write(s).",
        err=True,
    )
