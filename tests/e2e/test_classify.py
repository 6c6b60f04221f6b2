"""Classifying photos in the browser: upload two, read the results, keep and prune the history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import flash, heading, open_nav, register

pytestmark = pytest.mark.e2e


@pytest.fixture
def photos(tmp_path: Path, cat_jpeg: bytes, coffee_jpeg: bytes) -> dict[str, Path]:
    files = {"chelsea.jpg": cat_jpeg, "coffee.jpg": coffee_jpeg, "notes.jpg": b"not a photo\n" * 9}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


def test_classify_two_photos_then_prune_the_history(
    page: Page,
    unique_email: Callable[[str], str],
    photos: dict[str, Path],
    screenshot: Callable[[Page, str], Path],
) -> None:
    register(page, unique_email("classify"))
    open_nav(page).get_by_role("link", name="Classify").click()
    expect(heading(page)).to_have_text("Classify photos")
    screenshot(page, "classify")

    page.set_input_files("#photos", [photos["chelsea.jpg"], photos["coffee.jpg"]])
    cards = page.locator("#results .result-card")
    expect(cards).to_have_count(2)
    expect(page.locator("#results .result-card .predictions")).to_have_count(2, timeout=30_000)
    coffee = cards.filter(has_text="coffee.jpg")
    expect(coffee.locator(".predictions li").first).to_contain_text("espresso")
    expect(coffee.locator(".predictions li")).to_have_count(5)
    expect(coffee.locator("meter")).to_have_count(5)
    cat = cards.filter(has_text="chelsea.jpg")
    expect(cat.locator(".predictions")).to_contain_text("cat")
    screenshot(page, "classify-results")

    page.set_input_files("#photos", [photos["notes.jpg"]])
    refused = cards.filter(has_text="notes.jpg")
    expect(refused.locator("[role=alert]")).to_contain_text("not supported")

    open_nav(page).get_by_role("link", name="History").click()
    items = page.locator(".history-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("coffee.jpg")
    screenshot(page, "history")

    items.first.get_by_role("button", name="Delete").click()
    expect(flash(page)).to_have_text("The classification has been deleted.")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("chelsea.jpg")
