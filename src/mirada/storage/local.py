"""Blobs as files in a local folder (the embedded mode)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from mirada.storage.base import BlobNotFound, check_key

TEMP_PREFIX = ".tmp-"


class LocalBlobStore:
    """Each key is a file below ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def _files(self, folder: Path, written_before: datetime) -> Iterator[Path]:
        cutoff = written_before.timestamp()
        for path in sorted(folder.rglob("*")):
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                    yield path
            except FileNotFoundError:  # removed meanwhile
                continue

    def keys(self, prefix: str, *, written_before: datetime) -> Iterator[str]:
        for path in self._files(self._path(prefix), written_before):
            if not path.name.startswith(TEMP_PREFIX):
                yield path.relative_to(self.root).as_posix()

    def discard_partial(self, *, written_before: datetime) -> int:
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self._files(self.root, written_before):
            if path.name.startswith(TEMP_PREFIX):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
