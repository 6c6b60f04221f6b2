"""One user's uploads in progress in one process are bounded: the rest answer 429."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from skimage import data

from mirada.db import Example
from mirada.web import upload_slots
from tests.integration.helpers import count, get_user
from tests.support.images import encode
from tests.support.projects import JSON, Browser


def one_photo_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cats/one.png", encode(data.chelsea(), "PNG"))
    return buffer.getvalue()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app, "busy@example.com")


def test_an_import_past_the_users_share_is_refused_with_retry_after(app, browser) -> None:
    """The attack: eight parallel imports of 500 tiny photos each took every request thread
    of the server, health checks included, for over a minute."""
    project_id = browser.create_project("Imports")
    user = get_user(app, "busy@example.com")
    assert user is not None
    running = (user.id, "projects.import_archive")
    share = upload_slots.SHARES["projects.import_archive"]
    upload_slots._running[running] += share  # this user's imports are under way in this process
    try:
        refused = browser.import_zip(project_id, one_photo_zip(), headers=JSON)
    finally:
        del upload_slots._running[running]

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(upload_slots.RETRY_AFTER_S)
    assert refused.json["error"]["code"] == "uploads_in_progress"
    assert count(app, Example) == 0
    assert browser.import_zip(project_id, one_photo_zip(), headers=JSON).status_code == 200
    assert upload_slots._running == {}  # every slot was given back
