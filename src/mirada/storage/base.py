"""What every blob store offers, and the rules its keys follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$")


class BlobNotFound(KeyError):
    """No blob under that key."""


class InvalidBlobKey(ValueError):
    """A key that is not a plain relative path of safe characters."""


def check_key(key: str) -> str:
    """``key`` if it is safe (lower-case, no ``..``, no leading slash), else InvalidBlobKey."""
    if len(key) > 255 or not _KEY.match(key) or ".." in key:
        raise InvalidBlobKey(key)
    return key


def user_blob_prefix(user_id: int) -> str:
    """Where a user's blobs live; deleting this prefix deletes them all."""
    return f"users/{user_id}"


class BlobStore(Protocol):
    """Bytes by key. Writes are atomic: a reader sees the old blob or the new, never half."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Remove a blob; a missing one is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every blob whose key starts with ``prefix/``."""
        ...

    def keys(self, prefix: str, *, written_before: datetime) -> Iterator[str]:
        """The keys under ``prefix/`` of blobs last written before ``written_before``."""
        ...

    def discard_partial(self, *, written_before: datetime) -> int:
        """Remove writes that never finished (a process killed mid-put); how many."""
        ...
