"""Times on the pages: in the user's time zone (or the browser's), one format per page."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select, update

from mirada.db import Classification, ModelVersion, User
from mirada.db.app_session import db
from tests.integration.helpers import add_user, errors_of, get_user, signed_in, text
from tests.support.projects import Browser
from tests.support.web import WebClient

ALICE = "alice@example.org"
JSON = {"Accept": "application/json"}
# 17:04 UTC is 18:04 in Madrid (CET, UTC+1) and 12:04 in New York (EST, UTC-5).
MOMENT = datetime(2026, 11, 30, 17, 4, 5, tzinfo=UTC)


def readable(page: str) -> str:
    """Page text with entities decoded and CLDR's no-break spaces as plain spaces."""
    return re.sub("[\u00a0\u202f]", " ", page)


def times_in(page: str) -> list[tuple[str, str, str]]:
    """(datetime attribute, title, text) of every <time> element."""
    return re.findall(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', readable(page))


def save_profile(web: WebClient, timezone: str, locale: str = ""):
    return web.submit(
        "/account/",
        {"display_name": "Alice", "locale": locale, "timezone": timezone},
        action="/account/profile",
    )


def classify_at(app: Flask, web: WebClient, photo: bytes, moment: datetime) -> None:
    response = web.submit(
        "/classify",
        {"photos": [(io.BytesIO(photo), "cat.jpg")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 200
    with app.app_context():
        db.session.execute(update(Classification).values(created_at=moment))
        db.session.commit()


@pytest.fixture
def alice(app: Flask) -> WebClient:
    add_user(app, ALICE, display_name="Alice")
    return signed_in(app, ALICE)


def test_the_chosen_zone_is_saved_and_used_on_the_history(
    app: Flask, alice: WebClient, cat_jpeg: bytes
) -> None:
    classify_at(app, alice, cat_jpeg, MOMENT)
    assert times_in(alice.get("/history").get_data(as_text=True)) == [
        ("2026-11-30T17:04:05+00:00", "UTC", "Nov 30, 2026, 5:04 PM")
    ]

    saved = save_profile(alice, "Europe/Madrid")

    assert saved.status_code == 302
    assert get_user(app, ALICE).timezone == "Europe/Madrid"  # type: ignore[union-attr]
    assert times_in(alice.get("/history").get_data(as_text=True)) == [
        ("2026-11-30T17:04:05+00:00", "Europe/Madrid", "Nov 30, 2026, 6:04 PM")
    ]
    account = alice.get("/account/").get_data(as_text=True)
    assert re.search(r'<option selected value="Europe/Madrid">Madrid</option>', account)

    assert save_profile(alice, "Europe/Madrid", locale="es").status_code == 302
    history = alice.get("/history").get_data(as_text=True)
    assert times_in(history) == [
        ("2026-11-30T17:04:05+00:00", "Europe/Madrid", "30 nov 2026, 18:04")
    ]
    assert re.search(r'<span class="muted">\d{1,3},\d\u00a0%</span>', history)


def test_an_unknown_zone_is_refused_with_a_clear_message(
    app: Flask, alice: WebClient, subtests
) -> None:
    assert save_profile(alice, "America/New_York").status_code == 302
    for case, zone in {
        "made-up": "Mars/Olympus_Mons",
        "path": "../../../etc/passwd",
        "case": "europe/madrid",
        "long": "Europe/" + "x" * 5000,
        "nul": "Europe/Madrid\x00",
    }.items():
        with subtests.test(case):
            response = save_profile(alice, zone)

            assert response.status_code == 422
            assert errors_of(response, "timezone") == ["Choose a time zone from the list."]
            assert get_user(app, ALICE).timezone == "America/New_York"  # type: ignore[union-attr]

    assert save_profile(alice, "America/New_York", locale="es").status_code == 302
    spanish = save_profile(alice, "Marte/Olimpo", locale="es")
    assert spanish.status_code == 422
    assert errors_of(spanish, "timezone") == ["Elige una zona horaria de la lista."]


def test_without_a_chosen_zone_the_browser_zone_is_used(
    app: Flask, alice: WebClient, cat_jpeg: bytes
) -> None:
    classify_at(app, alice, cat_jpeg, MOMENT)
    alice.client.set_cookie("mirada_tz", "America/New_York")

    history = alice.get("/history").get_data(as_text=True)

    assert times_in(history) == [
        ("2026-11-30T17:04:05+00:00", "America/New_York", "Nov 30, 2026, 12:04 PM")
    ]
    account = text(alice.get("/account/"))
    assert "My browser's time zone (America/New_York)" in account
    alice.client.set_cookie("mirada_tz", "Nowhere/Special")
    assert times_in(alice.get("/history").get_data(as_text=True))[0][1] == "UTC"
    assert get_user(app, ALICE).timezone is None  # type: ignore[union-attr]


def test_registering_and_signing_in_adopt_the_browser_zone(app: Flask) -> None:
    web = WebClient(app)
    web.client.set_cookie("mirada_tz", "Asia/Tokyo")
    assert web.register("new@example.org").status_code == 302
    assert get_user(app, "new@example.org").timezone == "Asia/Tokyo"  # type: ignore[union-attr]

    odd = WebClient(app)
    odd.client.set_cookie("mirada_tz", "Not/AZone")
    assert odd.register("odd@example.org").status_code == 302
    assert get_user(app, "odd@example.org").timezone is None  # type: ignore[union-attr]

    odd.logout()
    odd.client.set_cookie("mirada_tz", "America/Mexico_City")
    assert odd.login("odd@example.org").status_code == 302
    assert get_user(app, "odd@example.org").timezone == "America/Mexico_City"  # type: ignore[union-attr]

    odd.logout()
    odd.client.set_cookie("mirada_tz", "Europe/Madrid")
    assert odd.login("odd@example.org").status_code == 302  # a chosen zone stays
    assert get_user(app, "odd@example.org").timezone == "America/Mexico_City"  # type: ignore[union-attr]


def test_version_and_compare_pages_show_local_dates(app: Flask) -> None:
    browser = Browser(app, ALICE)
    project_id = browser.digits_project("Digits", {0: "zero", 1: "one"}, 5)
    for _ in range(2):
        assert browser.train(project_id)["state"] == "succeeded"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == ALICE))
        user.timezone = "Europe/Madrid"
        for number, second in ((1, 22), (2, 50)):
            db.session.execute(
                update(ModelVersion)
                .where(ModelVersion.project_id == project_id, ModelVersion.number == number)
                .values(created_at=MOMENT.replace(minute=59, hour=16, second=second))
            )
        db.session.commit()

    version = browser.get(f"/projects/{project_id}/versions/1").get_data(as_text=True)
    assert times_in(version) == [
        ("2026-11-30T16:59:22+00:00", "Europe/Madrid", "Nov 30, 2026, 5:59 PM")
    ]
    listing = browser.get(f"/projects/{project_id}").get_data(as_text=True)
    shown = [t for _, _, t in times_in(listing)]
    assert shown.count("Nov 30, 2026, 5:59 PM") == 2  # both versions
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M", t) for t in shown)
    compare = browser.get(f"/projects/{project_id}/compare?a=1&b=2").get_data(as_text=True)
    assert [shown for _, _, shown in times_in(compare)] == [
        "Nov 30, 2026, 5:59:22 PM",
        "Nov 30, 2026, 5:59:50 PM",
    ]
