"""Zip uploads: the archive reader on hand-made zips, then the import form end to end."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from mirada.db import Example, ProjectClass
from mirada.presenters.refusals import REFUSALS
from mirada.services.archives import unpacked_archive
from mirada.services.errors import ServiceError
from tests.integration.helpers import count, text
from tests.support.projects import JSON, Browser, digit_pngs, wait_for_jobs, zip_of

LIMITS = {"max_entries": 100, "max_total_bytes": 10_000_000, "max_file_bytes": 1_000_000}


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    """Six real photos (scanned digits), all different."""
    return digit_pngs(3, 3) + digit_pngs(8, 3)


def read(data: bytes, **limits: int):
    """The archive's entries (with their bytes, as ``data``) and skipped files."""
    with (
        tempfile.TemporaryDirectory() as folder,
        unpacked_archive(io.BytesIO(data), workdir=Path(folder), **{**LIMITS, **limits}) as (
            entries,
            skipped,
        ),
    ):
        assert all(e.path.parent.parent == Path(folder) for e in entries)
        kept = [
            SimpleNamespace(class_name=e.class_name, filename=e.filename, data=e.read())
            for e in entries
        ]
        return kept, skipped


def refusal(data: bytes, **limits: int) -> str:
    with pytest.raises(ServiceError) as caught:
        read(data, **limits)
    assert caught.value.code in REFUSALS  # worded by the presenters, not the service
    return caught.value.code


def with_entry(info: zipfile.ZipInfo, data: bytes, others: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in (others or {}).items():
            archive.writestr(path, content)
        archive.writestr(info, data)
    return buffer.getvalue()


# The reader


def test_one_folder_per_class(photos) -> None:
    entries, skipped = read(
        zip_of({"threes/a.png": photos[0], "threes/b.png": photos[1], "eights/c.png": photos[3]})
    )
    assert sorted((e.class_name, e.filename) for e in entries) == [
        ("eights", "c.png"),
        ("threes", "a.png"),
        ("threes", "b.png"),
    ]
    assert {e.filename: e.data for e in entries}["b.png"] == photos[1]
    assert skipped == []


def test_one_top_folder_around_the_classes_is_unwrapped(photos) -> None:
    entries, skipped = read(
        zip_of({"digits/threes/a.png": photos[0], "digits/eights/c.png": photos[3]})
    )
    assert sorted(e.class_name for e in entries) == ["eights", "threes"]
    assert skipped == []


def test_files_outside_class_folders_are_skipped_by_name(photos) -> None:
    entries, skipped = read(zip_of({"threes/a.png": photos[0], "loose.png": photos[1]}))
    assert [e.filename for e in entries] == ["a.png"]
    assert [(s.filename, s.code) for s in skipped] == [("loose.png", "not_in_class_folder")]


def test_hidden_files_and_macos_metadata_are_ignored(photos) -> None:
    entries, skipped = read(
        zip_of(
            {
                "threes/a.png": photos[0],
                "threes/.DS_Store": b"\x00\x00\x00\x01Bud1",
                "__MACOSX/threes/._a.png": b"\x00\x05\x16\x07",
                ".git/config": b"[core]",
            }
        )
    )
    assert [(e.class_name, e.filename) for e in entries] == [("threes", "a.png")]
    assert skipped == []


@pytest.mark.parametrize("path", ["../threes/a.png", "threes/../../a.png", "../../etc/x.png"])
def test_paths_that_climb_out_refuse_the_whole_archive(photos, path) -> None:
    data = zip_of({"threes/ok.png": photos[0], path: photos[1]})
    assert path in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert refusal(data) == "archive_unsafe_path"


def test_absolute_paths_refuse_the_whole_archive(photos) -> None:
    data = with_entry(zipfile.ZipInfo("/threes/a.png"), photos[0])
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["/threes/a.png"]
    assert refusal(data) == "archive_unsafe_path"


def test_a_symlink_refuses_the_whole_archive(photos) -> None:
    link = zipfile.ZipInfo("threes/link.png")
    link.create_system = 3  # Unix
    link.external_attr = 0o120777 << 16
    data = with_entry(link, b"../../../etc/passwd", {"threes/a.png": photos[0]})
    assert refusal(data) == "archive_link"


def test_too_many_entries_refuse_the_whole_archive(photos) -> None:
    data = zip_of({f"threes/{i}.png": photos[i] for i in range(4)})
    assert refusal(data, max_entries=3) == "archive_too_many_entries"
    assert len(read(data, max_entries=4)[0]) == 4


def test_too_much_unpacked_data_refuses_the_whole_archive(photos) -> None:
    data = zip_of({"threes/a.png": photos[0], "threes/b.png": photos[1]})
    total = len(photos[0]) + len(photos[1])
    assert refusal(data, max_total_bytes=total - 1) == "archive_too_large"
    assert len(read(data, max_total_bytes=total)[0]) == 2


def bomb(real: bytes, declared: int) -> bytes:
    """A zip whose directory claims its one entry unpacks to ``declared`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("threes/a.png", real)
        archive.infolist()[0].file_size = declared  # written into the central directory
    return buffer.getvalue()


def test_a_declared_bomb_is_refused_before_anything_is_unpacked(photos) -> None:
    data = bomb(photos[0], 2**31)
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].file_size == 2**31
    assert refusal(data, max_total_bytes=1_000_000_000) == "archive_too_large"


def test_a_large_single_file_is_skipped_by_name(photos) -> None:
    data = zip_of({"threes/a.png": photos[0], "threes/big.png": photos[1] + b"\x00" * 5000})
    entries, skipped = read(data, max_file_bytes=len(photos[0]) + 100)
    assert [e.filename for e in entries] == ["a.png"]
    assert [(s.filename, s.code) for s in skipped] == [("threes/big.png", "too_large")]


def test_a_corrupt_entry_is_skipped_and_the_others_kept(photos) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("threes/good.png", photos[0])
        archive.writestr("threes/bad.png", photos[1])
    data = bytearray(buffer.getvalue())
    start = data.index(photos[1])
    data[start + 100] ^= 0xFF  # the stored bytes no longer match their CRC
    entries, skipped = read(bytes(data))
    assert [e.filename for e in entries] == ["good.png"]
    assert [(s.filename, s.code) for s in skipped] == [("threes/bad.png", "corrupt")]


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not really", b"%PDF-1.4", b"\x89PNG\r\n"])
def test_what_is_not_a_zip_is_refused(data) -> None:
    assert refusal(data) == "bad_archive"


# The import form


def blob_files(app: Flask) -> list[Path]:
    root = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app, "archivist@example.com")


def test_import_creates_classes_keeps_the_good_and_names_the_bad(app, browser, photos) -> None:
    project_id = browser.create_project("Digits")
    existing = browser.add_class(project_id, "Threes")
    data = zip_of(
        {
            "export/threes/a.png": photos[0],
            "export/threes/b.png": photos[1],
            "export/eights/c.png": photos[3],
            "export/eights/notes.png": b"this is a text file, not a photo",
            "export/eights/copy.png": photos[3],
        }
    )
    response = browser.import_zip(project_id, data)
    assert response.status_code == 200
    page = text(response)
    assert "3 photos added." in page
    assert "eights/notes.png" in page
    assert "This file type is not supported" in page
    assert "eights/copy.png" in page
    assert "already in the project" in page
    # "threes" went into the existing class Threes; "eights" was made.
    assert count(app, ProjectClass, ProjectClass.project_id == project_id) == 2
    assert count(app, Example, Example.class_id == existing) == 2
    assert count(app, Example) == 3
    wait_for_jobs(app)
    # embedded in the background
    assert count(app, Example, Example.embedding_backbone.is_not(None)) == 3


def test_import_answers_json(app, browser, photos) -> None:
    project_id = browser.create_project("Digits")
    data = zip_of({"threes/a.png": photos[0], "threes/bad.png": b"nope", "loose.png": photos[1]})
    response = browser.import_zip(project_id, data, headers=JSON)
    assert response.status_code == 200
    body = response.json
    assert body["added"] == 1
    refused = [r for r in body["results"] if "error" in r]
    assert [(r["file"], r["error"]["code"]) for r in refused] == [
        ("threes/bad.png", "unsupported_format")
    ]
    assert [(s["file"], s["error"]["code"]) for s in body["skipped"]] == [
        ("loose.png", "not_in_class_folder")
    ]
    assert body["skipped"][0]["error"]["message"]
    wait_for_jobs(app)


UNSAFE = {
    "climbs out": (lambda p: zip_of({"threes/a.png": p[0], "../b.png": p[1]}), "unsafe path"),
    "absolute": (lambda p: with_entry(zipfile.ZipInfo("/threes/a.png"), p[0]), "unsafe path"),
    "bomb": (lambda p: bomb(p[0], 2**31), "would unpack to more than"),
    "not a zip": (lambda p: p[0], "not a valid zip archive"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_archives_are_refused_and_store_nothing(app, browser, photos, case) -> None:
    make, message = UNSAFE[case]
    project_id = browser.create_project("Digits")
    response = browser.import_zip(project_id, make(photos))
    assert response.status_code == 400
    assert message in text(response)
    assert count(app, ProjectClass) == 0
    assert count(app, Example) == 0
    assert blob_files(app) == []


def test_a_symlink_in_the_archive_is_refused_in_json(app, browser, photos) -> None:
    project_id = browser.create_project("Digits")
    link = zipfile.ZipInfo("threes/link.png")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    response = browser.import_zip(project_id, with_entry(link, b"/etc/passwd"), headers=JSON)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "archive_link"
    assert "threes/link.png" in response.json["error"]["message"]
    assert count(app, ProjectClass) == 0


def test_a_class_whose_files_are_all_refused_is_not_left_behind(app, browser, photos) -> None:
    project_id = browser.create_project("Digits")
    data = zip_of({"threes/a.png": photos[0], "broken/x.png": b"junk", "broken/y.png": b""})
    response = browser.import_zip(project_id, data)
    assert response.status_code == 200
    assert "broken/x.png" in text(response)
    assert count(app, ProjectClass) == 1
    assert count(app, Example) == 1
    wait_for_jobs(app)


def test_import_needs_an_archive(app, browser) -> None:
    project_id = browser.create_project("Digits")
    response = browser.post(f"/projects/{project_id}/import", content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a zip file" in text(response)


def test_an_encrypted_entry_is_skipped_by_name(photos) -> None:
    info = zipfile.ZipInfo("threes/secret.png")
    archive = bytearray(with_entry(info, photos[0], {"eights/a.png": photos[3]}))
    # Set the "encrypted" flag of the last entry in its local header and directory record.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = archive.rfind(signature)
        archive[start + offset] |= 0x1
    entries, skipped = read(bytes(archive))
    assert [e.filename for e in entries] == ["a.png"]
    assert [(s.filename, s.code) for s in skipped] == [("threes/secret.png", "encrypted")]


def test_a_damaged_bzip2_entry_is_skipped(photos) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("threes/a.png", photos[0])
    damaged = bytearray(buffer.getvalue())
    start = damaged.find(b"BZh") + 10
    damaged[start : start + 40] = b"\x00" * 40
    entries, skipped = read(bytes(damaged))
    assert entries == []
    assert [s.code for s in skipped] == ["corrupt"]


def test_an_unsupported_zip_version_is_refused_cleanly(photos) -> None:
    archive = bytearray(zip_of({"threes/a.png": photos[0]}))
    start = archive.find(b"PK\x01\x02")
    archive[start + 6] = 0xFF  # "version needed to extract"
    assert refusal(bytes(archive)) == "bad_archive"


def test_a_directory_of_millions_of_entries_is_refused_from_its_end_record(photos) -> None:
    archive = bytearray(zip_of({"threes/a.png": photos[0]}))
    end = archive.rfind(b"PK\x05\x06")
    archive[end + 10 : end + 12] = (0xFFFF).to_bytes(2, "little")  # entries: ZIP64 marker
    assert refusal(bytes(archive)) == "archive_too_many_entries"
    archive[end + 10 : end + 12] = (1).to_bytes(2, "little")
    archive[end + 12 : end + 16] = (200_000_000).to_bytes(4, "little")  # directory size
    assert refusal(bytes(archive)) == "archive_too_many_entries"
