"""Zip uploads with one folder per class, checked before anything is extracted.

The entries are streamed to a temporary folder in the data folder (chunked copies with
running size checks), never held in memory together; the folder goes when the import
ends, however it ends.
"""

from __future__ import annotations

import lzma
import shutil
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import IO

from mirada.services.errors import ServiceError
from mirada.vision.intake import may_be_image

IGNORED_PARTS = ("__MACOSX",)
UNPACK_PREFIX = "import-"  # the folders an archive is unpacked into, under the workdir
ENCRYPTED_FLAG = 0x1
END_OF_DIRECTORY = b"PK\x05\x06"
END_RECORD_SIZE = 22
END_SEARCH_BYTES = END_RECORD_SIZE + 65_535  # the record, then a comment of up to 64 KiB
DIRECTORY_BYTES_PER_ENTRY = 1024  # a header and a long name; real entries take far less
FIRST_CHUNK = 64 * 1024  # enough to tell an image from anything else
CHUNK = 1024 * 1024
# What reading one damaged entry can raise, whatever its compression method.
UNREADABLE_ENTRY = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
)


@dataclass(frozen=True)
class ArchiveEntry:
    """One file of the archive: the class folder it sits in, its name, where it was put."""

    class_name: str
    filename: str
    path: Path

    def read(self) -> bytes:
        """The entry's bytes, as extracted."""
        return self.path.read_bytes()


@dataclass(frozen=True)
class SkippedEntry:
    """A file the archive holds but that is not imported, and why (a code)."""

    filename: str
    code: str


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _class_and_name(path: PurePosixPath, common_root: str | None) -> tuple[str, str] | None:
    parts = list(path.parts)
    if common_root is not None:
        parts = parts[1:]
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


@contextmanager
def unpacked_archive(
    source: IO[bytes],
    *,
    workdir: Path,
    max_entries: int,
    max_total_bytes: int,
    max_file_bytes: int,
) -> Iterator[tuple[list[ArchiveEntry], list[SkippedEntry]]]:
    """The images of a zip laid out as ``CLASS/FILE`` (optionally inside one top folder).

    ``source`` is the zip as a seekable binary file. The whole archive is refused when it
    is not a zip, has too many entries, unpacks to more than ``max_total_bytes``, or
    holds a path that escapes (``..``, absolute) or a link. Single files that are too
    large or not in a class folder are skipped by name. The entries are extracted into
    a new folder under ``workdir``, removed when the block ends.
    """
    _check_directory_size(source, max_entries=max_entries)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, ValueError, NotImplementedError, OSError, EOFError) as exc:
        raise ServiceError("bad_archive") from exc
    workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=UNPACK_PREFIX, dir=workdir))
    try:
        with archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            _check_archive(infos, max_entries=max_entries, max_total_bytes=max_total_bytes)
            yield _extract(
                archive,
                infos,
                folder=folder,
                max_file_bytes=max_file_bytes,
                max_total_bytes=max_total_bytes,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_unpacked(*, workdir: Path, older_than: timedelta, dry_run: bool = False) -> list[Path]:
    """The unpacking folders under ``workdir`` older than ``older_than``, removed (unless
    ``dry_run``): a process killed during an import never reached its own cleanup."""
    if not workdir.is_dir():
        return []
    limit = time.time() - older_than.total_seconds()
    stale = [
        folder
        for folder in sorted(workdir.glob(f"{UNPACK_PREFIX}*"))
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < limit
    ]
    if not dry_run:
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
    return stale


def _too_many_entries(max_entries: int) -> ServiceError:
    return ServiceError("archive_too_many_entries", n=max_entries)


def _check_directory_size(source: IO[bytes], *, max_entries: int) -> None:
    """Refuse, from its end record alone, an archive whose directory is too big to parse.

    ``zipfile`` reads the whole central directory before anything can be counted; a
    crafted archive of millions of empty entries would cost gigabytes there.
    """
    size = source.seek(0, 2)
    source.seek(max(0, size - END_SEARCH_BYTES))
    data = source.read()
    source.seek(0)
    end = data.rfind(END_OF_DIRECTORY)
    if end < 0 or len(data) < end + END_RECORD_SIZE:
        return  # not a zip: ZipFile says so
    entries, directory_size = struct.unpack_from("<HI", data, end + 10)
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # ZIP64: far beyond our limits
        raise _too_many_entries(max_entries)
    if entries > max_entries or directory_size > max_entries * DIRECTORY_BYTES_PER_ENTRY:
        raise _too_many_entries(max_entries)


def _check_archive(infos: list[zipfile.ZipInfo], *, max_entries: int, max_total_bytes: int) -> None:
    if len(infos) > max_entries:
        raise _too_many_entries(max_entries)
    if sum(i.file_size for i in infos) > max_total_bytes:
        raise _too_large(max_total_bytes)
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or info.filename.startswith("/"):
            raise ServiceError("archive_unsafe_path", name=info.filename[:200])
        if _is_link(info):
            raise ServiceError("archive_link", name=info.filename[:200])


def _visible(path: PurePosixPath) -> bool:
    return not any(part.startswith(".") or part in IGNORED_PARTS for part in path.parts)


def _too_large(max_total_bytes: int) -> ServiceError:
    return ServiceError("archive_too_large", mb=max_total_bytes // 1_000_000)


def _extract(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    *,
    folder: Path,
    max_file_bytes: int,
    max_total_bytes: int,
) -> tuple[list[ArchiveEntry], list[SkippedEntry]]:
    paths = [(info, PurePosixPath(info.filename.replace("\\", "/"))) for info in infos]
    paths = [(info, path) for info, path in paths if _visible(path)]
    roots = {path.parts[0] for _, path in paths if len(path.parts) > 1}
    wrapped = len(roots) == 1 and all(len(path.parts) == 3 for _, path in paths)
    single_root = next(iter(roots)) if wrapped else None
    entries: list[ArchiveEntry] = []
    skipped: list[SkippedEntry] = []
    total = 0
    for index, (info, path) in enumerate(paths):
        placed = _class_and_name(path, single_root)
        if placed is None:
            skipped.append(SkippedEntry(info.filename, "not_in_class_folder"))
            continue
        if info.file_size > max_file_bytes:
            skipped.append(SkippedEntry(info.filename, "too_large"))
            continue
        if info.flag_bits & ENCRYPTED_FLAG:
            skipped.append(SkippedEntry(info.filename, "encrypted"))
            continue
        target = folder / str(index)
        try:
            written = _copy_entry(archive, info, target, max_file_bytes)
        except UNREADABLE_ENTRY:
            target.unlink(missing_ok=True)
            skipped.append(SkippedEntry(info.filename, "corrupt"))
            continue
        if written is None:
            skipped.append(SkippedEntry(info.filename, "too_large"))
            continue
        total += written
        if total > max_total_bytes:
            raise _too_large(max_total_bytes)
        entries.append(ArchiveEntry(placed[0], placed[1], target))
    return entries, skipped


def _copy_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int
) -> int | None:
    """Copy the entry to ``target`` in chunks; the bytes written, or None past ``limit``.

    An entry that does not start like an image is copied no further than its first
    chunk: the intake refuses it from its leading bytes alone, and 20 MB of zeros cost
    nothing to unpack.
    """
    written = 0
    with archive.open(info) as source, target.open("wb") as out:
        chunk = source.read(FIRST_CHUNK)
        keep_going = may_be_image(chunk)
        while chunk:
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
            chunk = source.read(CHUNK) if keep_going else b""
    if written > limit:
        target.unlink()
        return None
    return written
