"""Classifying photos in the browser: upload two, read the results, keep and prune the history."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import (
    answer_confirmation,
    flash,
    heading,
    heading_levels,
    nav,
    open_nav,
    register,
    words_broken_across_lines,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def photos(tmp_path: Path, cat_jpeg: bytes, coffee_jpeg: bytes) -> dict[str, Path]:
    files = {"chelsea.jpg": cat_jpeg, "coffee.jpg": coffee_jpeg, "notes.jpg": b"not a photo\n" * 9}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


def test_classify_photos_then_prune_the_history(
    page: Page,
    viewport: str,
    unique_email: Callable[[str], str],
    photos: dict[str, Path],
    screenshot: Callable[[Page, str], Path],
) -> None:
    register(page, unique_email("classify"))
    open_nav(page).get_by_role("link", name="Classify").click()
    expect(heading(page)).to_have_text("Classify photos")
    # Each way in only where it works: the camera on a phone, dragging on a desktop.
    camera = page.get_by_text("Take a photo", exact=True)
    dragging = page.get_by_text("Drag and drop photos here", exact=True)
    expect(camera).to_be_visible() if viewport == "phone" else expect(camera).to_be_hidden()
    expect(dragging).to_be_hidden() if viewport == "phone" else expect(dragging).to_be_visible()
    expect(page.locator("#results-title")).to_be_hidden()
    screenshot(page, "classify")

    chosen = [photos["chelsea.jpg"], photos["notes.jpg"], photos["coffee.jpg"]]
    page.set_input_files("#photos", chosen)
    cards = page.locator("#results .result-card")
    expect(cards).to_have_count(3)
    # In the order they were chosen, brought into view (on a phone they start below the fold).
    expect(cards.locator(".result-file")).to_have_text(["chelsea.jpg", "notes.jpg", "coffee.jpg"])
    expect(page.locator("#results-title")).to_be_focused()
    expect(cards.first).to_be_in_viewport()
    expect(page.locator("#results .result-card .predictions")).to_have_count(2, timeout=30_000)
    coffee = cards.filter(has_text="coffee.jpg")
    expect(coffee.locator(".predictions li").first).to_contain_text("espresso")
    expect(coffee.locator(".predictions li")).to_have_count(5)
    expect(coffee.locator("meter")).to_have_count(5)
    cat = cards.filter(has_text="chelsea.jpg")
    expect(cat.locator(".predictions")).to_contain_text("cat")
    expect(cat.locator("img.result-image")).to_have_count(1)
    # The refused file: its message, and no broken picture.
    refused = cards.filter(has_text="notes.jpg")
    expect(refused.locator(".alert-error")).to_contain_text("not supported")
    expect(refused.locator("img")).to_have_count(0)
    # Screen readers hear each answer (the last one here: the coffee).
    expect(page.locator("#results-status[role=status]")).to_have_text(
        re.compile(r"^Result for coffee\.jpg: espresso, \d+(\.\d)?%$")
    )
    assert heading_levels(page) == [1, 2, 3, 3, 3]
    screenshot(page, "classify-results")

    open_nav(page).get_by_role("link", name="History").click()
    items = page.locator(".history-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("coffee.jpg")
    expect(items.first.locator(".history-model")).to_have_text("Model: ImageNet (1000 classes)")
    for item in items.all():
        body = item.locator(".history-body")
        assert words_broken_across_lines(body.locator(".history-title")) == []
        assert words_broken_across_lines(body.locator(".history-model")) == []
        delete_box = item.get_by_role("button", name="Delete").bounding_box()
        body_box = body.bounding_box()
        assert delete_box and body_box
        if viewport == "phone":  # below the text, which keeps the card's width
            assert delete_box["y"] >= body_box["y"] + body_box["height"] - 1
    screenshot(page, "history")

    # Deleting asks first: "Cancel" keeps the entry, "OK" deletes it.
    delete = items.first.get_by_role("button", name="Delete")
    asked = answer_confirmation(page, accept=False)
    delete.click()
    assert asked == ["Delete the classification of coffee.jpg? This cannot be undone."]
    expect(items).to_have_count(2)
    expect(flash(page)).to_have_count(0)
    answer_confirmation(page, accept=True)
    delete.click()
    expect(flash(page)).to_have_text("The classification has been deleted.")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("chelsea.jpg")


def test_the_keyboard_finds_choose_photos_and_skips_hidden_buttons(
    page: Page, unique_email: Callable[[str], str]
) -> None:
    register(page, unique_email("keyboard"))
    page.goto("/classify")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    visited: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(el => el.id || el.textContent.trim() || el.tagName)(document.activeElement)"
        )
        visited.append(focused)
        if focused == "photos":
            break
    assert visited[-1] == "photos", visited
    assert "Change language" not in visited
    ring = page.locator("label[for=photos]").evaluate(
        "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]"
    )
    assert ring == ["solid", "3px"], ring


def test_arrow_keys_on_the_language_list_wait_for_enter(page: Page) -> None:
    page.goto("/")
    select = open_nav(page).locator("select[name=locale]")
    page.evaluate("window.stayed = true")
    select.focus()
    page.keyboard.press("ArrowDown")
    button = nav(page).get_by_role("button", name="Change language")
    expect(button).to_be_visible()
    page.wait_for_load_state()
    assert page.evaluate("window.stayed") is True
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "es")
