"""Digits taught through the pages score, on digits never uploaded, what the version page says."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from tests.support.digits import Digits, write_digits
from tests.support.projects import JSON, Browser, wait_for_jobs

PER_CLASS = 80
HELD_OUT = 100
FLOOR = 0.85
AGREEMENT = 0.1
FILES_PER_REQUEST = 20


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Digits:
    return write_digits(tmp_path_factory.mktemp("digits"), per_class=PER_CLASS, held_out=HELD_OUT)


def zip_folder(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(root.rglob("*.png")):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def test_digits_taught_through_the_pages(app, digits: Digits) -> None:
    browser = Browser(app, "pages@example.com")
    project_id = browser.create_project("Digits")
    imported = browser.import_zip(project_id, zip_folder(digits.train), headers=JSON)
    assert imported.status_code == 200, imported.get_data(as_text=True)[:300]
    job = browser.train(project_id)
    assert job["state"] == "succeeded", job

    page = browser.get(job["version_url"]).get_data(as_text=True)
    shown = re.search(r'<dd class="metric-accuracy">(\d{1,3}\.\d)%</dd>', page)
    assert shown, "the version page shows no accuracy"
    reported = float(shown.group(1)) / 100
    assert "hold-out" in page.lower() or "held out" in page.lower()

    files = sorted(digits.test.iterdir())
    right = 0
    for start in range(0, len(files), FILES_PER_REQUEST):
        chunk = files[start : start + FILES_PER_REQUEST]
        answer = browser.post(
            "/classify",
            {
                "model": str(project_id),
                "photos": [(io.BytesIO(p.read_bytes()), p.name) for p in chunk],
            },
            content_type="multipart/form-data",
            headers=JSON,
        )
        assert answer.status_code == 200
        for result in answer.json["results"]:
            right += result["predictions"][0]["label"] == digits.truth[result["file"]]
    independent = right / len(files)
    wait_for_jobs(app)
    print(f"reported hold-out accuracy {reported:.3f}, independent {independent:.3f}")
    assert reported >= FLOOR
    assert independent >= FLOOR
    assert abs(reported - independent) <= AGREEMENT
