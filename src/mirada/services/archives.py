"""Zip uploads with one folder per class, checked before anything is extracted."""

from __future__ import annotations

import io
import lzma
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from flask_babel import lazy_gettext as _l

from mirada.services.errors import ServiceError

IGNORED_PARTS = ("__MACOSX",)
ENCRYPTED_FLAG = 0x1
END_OF_DIRECTORY = b"PK\x05\x06"
END_RECORD_SIZE = 22
END_SEARCH_BYTES = END_RECORD_SIZE + 65_535  # the record, then a comment of up to 64 KiB
DIRECTORY_BYTES_PER_ENTRY = 1024  # a header and a long name; real entries take far less
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
    """One file of the archive: the class folder it sits in, its name and its bytes."""

    class_name: str
    filename: str
    data: bytes


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


def read_archive(
    data: bytes, *, max_entries: int, max_total_bytes: int, max_file_bytes: int
) -> tuple[list[ArchiveEntry], list[SkippedEntry]]:
    """The images of a zip laid out as ``CLASS/FILE`` (optionally inside one top folder).

    The whole archive is refused when it is not a zip, has too many entries, would unpack
    to more than ``max_total_bytes``, or holds a path that escapes (``..``, absolute) or a
    link. Single files that are too large or not in a class folder are skipped by name.
    """
    _check_directory_size(data, max_entries=max_entries)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, NotImplementedError, OSError, EOFError) as exc:
        raise ServiceError("bad_archive", _l("This file is not a valid zip archive.")) from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        _check_archive(infos, max_entries=max_entries, max_total_bytes=max_total_bytes)
        return _extract(archive, infos, max_file_bytes=max_file_bytes)


def _too_many_entries(max_entries: int) -> ServiceError:
    return ServiceError(
        "archive_too_many_entries", _l("The archive holds more than %(n)d files.", n=max_entries)
    )


def _check_directory_size(data: bytes, *, max_entries: int) -> None:
    """Refuse, from its end record alone, an archive whose directory is too big to parse.

    ``zipfile`` reads the whole central directory before anything can be counted; a
    crafted archive of millions of empty entries would cost gigabytes there.
    """
    end = data.rfind(END_OF_DIRECTORY, max(0, len(data) - END_SEARCH_BYTES))
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
        raise ServiceError(
            "archive_too_large",
            _l("The archive would unpack to more than %(mb)d MB.", mb=max_total_bytes // 1_000_000),
        )
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or info.filename.startswith("/"):
            raise ServiceError(
                "archive_unsafe_path",
                _l("The archive holds an unsafe path: %(name)s", name=info.filename[:200]),
            )
        if _is_link(info):
            raise ServiceError(
                "archive_link",
                _l(
                    "The archive holds a link, which is not allowed: %(name)s",
                    name=info.filename[:200],
                ),
            )


def _visible(path: PurePosixPath) -> bool:
    return not any(part.startswith(".") or part in IGNORED_PARTS for part in path.parts)


def _extract(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], *, max_file_bytes: int
) -> tuple[list[ArchiveEntry], list[SkippedEntry]]:
    paths = [(info, PurePosixPath(info.filename.replace("\\", "/"))) for info in infos]
    paths = [(info, path) for info, path in paths if _visible(path)]
    roots = {path.parts[0] for _, path in paths if len(path.parts) > 1}
    wrapped = len(roots) == 1 and all(len(path.parts) == 3 for _, path in paths)
    single_root = next(iter(roots)) if wrapped else None
    entries: list[ArchiveEntry] = []
    skipped: list[SkippedEntry] = []
    for info, path in paths:
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
        try:
            data = _read_bounded(archive, info, max_file_bytes)
        except UNREADABLE_ENTRY:
            skipped.append(SkippedEntry(info.filename, "corrupt"))
            continue
        entries.append(ArchiveEntry(placed[0], placed[1], data))
    return entries, skipped


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The entry's bytes, never more than ``limit`` + 1 whatever its header claims."""
    with archive.open(info) as handle:
        return handle.read(limit + 1)
