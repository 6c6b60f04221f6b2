"""The zip reader refuses with codes and params, and leaves no extracted file behind."""

from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from mirada.services import archives
from mirada.services.archives import unpacked_archive
from mirada.services.errors import ServiceError
from tests.support.projects import digit_png, zip_of

LIMITS = {"max_entries": 3, "max_total_bytes": 1_000_000, "max_file_bytes": 100_000}


def _refused(data: bytes, workdir: Path) -> ServiceError:
    with (
        pytest.raises(ServiceError) as caught,
        unpacked_archive(io.BytesIO(data), workdir=workdir, **LIMITS),
    ):
        pass
    return caught.value


def test_refusals_carry_the_numbers_their_words_need(tmp_path: Path) -> None:
    many = zip_of({f"a/{n}.png": digit_png(n) for n in range(4)})
    assert (_refused(many, tmp_path).code, _refused(many, tmp_path).params) == (
        "archive_too_many_entries",
        {"n": 3},
    )
    climbing = zip_of({"../a/1.png": digit_png(1)})
    refused = _refused(climbing, tmp_path)
    assert (refused.code, refused.params) == ("archive_unsafe_path", {"name": "../a/1.png"})
    assert _refused(b"not a zip", tmp_path).code == "bad_archive"


def test_a_declared_size_over_the_limit_refuses_before_extracting(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/zeros.png", b"\0" * 2_000_000)
    refused = _refused(buffer.getvalue(), tmp_path)
    assert (refused.code, refused.params) == ("archive_too_large", {"mb": 1})
    assert list(tmp_path.iterdir()) == []  # the extraction folder went with the refusal


def test_the_extracted_files_go_when_the_block_ends(tmp_path: Path) -> None:
    data = zip_of({"ones/a.png": digit_png(1), "loose.png": digit_png(2)})
    with unpacked_archive(io.BytesIO(data), workdir=tmp_path, **LIMITS) as (entries, skipped):
        assert [(e.class_name, e.read()) for e in entries] == [("ones", digit_png(1))]
        assert [(s.filename, s.code) for s in skipped] == [("loose.png", "not_in_class_folder")]
        assert entries[0].path.exists()
    assert not entries[0].path.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_removes_only_old_unpacking_folders(tmp_path: Path) -> None:
    """A process killed during an import leaves its folder; the sweep clears it later."""
    old, fresh, other = tmp_path / "import-old", tmp_path / "import-new", tmp_path / "keep-me"
    for folder in (old, fresh, other):
        (folder / "cats").mkdir(parents=True)
        (folder / "cats" / "a.jpg").write_bytes(b"x")
    hours_ago = time.time() - 3 * 3600
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))

    assert archives.sweep_unpacked(
        workdir=tmp_path, older_than=timedelta(hours=1), dry_run=True
    ) == [old]
    assert old.exists()
    assert archives.sweep_unpacked(workdir=tmp_path, older_than=timedelta(hours=1)) == [old]
    assert not old.exists() and fresh.exists() and other.exists()
    assert archives.sweep_unpacked(workdir=tmp_path / "none", older_than=timedelta(0)) == []
