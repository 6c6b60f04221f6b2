"""Sweeping blob files that no database row owns.

Every photo is written to the blob store before the row that points at it is
committed, and rows are deleted before their files; a process killed in between
(a web worker during an upload, say) leaves files without a row, never a row
without its files. The sweep removes such files once they are older than a grace
period, so uploads still in flight are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mirada.db import Classification, Example, ModelVersion
from mirada.db.base import utcnow
from mirada.storage import BlobStore

USERS_PREFIX = "users"
CHUNK = 500


@dataclass(frozen=True)
class SweepResult:
    """What a sweep removed: unowned blobs (by key) and unfinished writes (a count)."""

    deleted: list[str]
    partial: int


def _owning_queries(keys: list[str]) -> Iterator[Select[str]]:
    yield select(Example.image_key).where(Example.image_key.in_(keys))
    yield select(Example.thumbnail_key).where(Example.thumbnail_key.in_(keys))
    yield select(Classification.image_key).where(Classification.image_key.in_(keys))
    yield select(Classification.thumbnail_key).where(Classification.thumbnail_key.in_(keys))
    yield select(ModelVersion.head_key).where(ModelVersion.head_key.in_(keys))


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    iterator = iter(keys)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def unowned_keys(*, session: Session, blobs: BlobStore, written_before: datetime) -> Iterator[str]:
    """Keys of users' blobs written before ``written_before`` that no row points at."""
    for chunk in _chunks(blobs.keys(USERS_PREFIX, written_before=written_before)):
        owned: set[str] = set()
        for query in _owning_queries(chunk):
            owned.update(session.scalars(query))
        yield from (key for key in chunk if key not in owned)


def sweep_orphans(
    *,
    session: Session,
    blobs: BlobStore,
    grace: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SweepResult:
    """Delete the blobs no row owns and the unfinished writes, both older than ``grace``."""
    written_before = (now or utcnow()) - grace
    deleted = list(unowned_keys(session=session, blobs=blobs, written_before=written_before))
    session.rollback()  # end the read transaction (it wrote nothing) before deleting
    if dry_run:
        return SweepResult(deleted=deleted, partial=0)
    for key in deleted:
        blobs.delete(key)
    return SweepResult(
        deleted=deleted, partial=blobs.discard_partial(written_before=written_before)
    )
