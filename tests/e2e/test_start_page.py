"""The start page shows a visitor what Mirada does, on a real photo."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import HOME_ANONYMOUS, heading, heading_levels, horizontal_overflow

pytestmark = pytest.mark.e2e


def test_visitors_see_a_photo_and_what_the_model_said(
    page: Page, screenshot: Callable[[Page, str], Path]
) -> None:
    page.goto("/")
    expect(heading(page)).to_have_text(HOME_ANONYMOUS)
    photo = page.get_by_role("img", name="A tabby cat looking at the camera.")
    expect(photo).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 451", arg=photo.element_handle()
    )
    answer = page.locator(".example-answer .predictions li")
    expect(answer.locator(".prediction-label")).to_have_text(
        ["Egyptian cat", "tiger cat", "tabby cat"]
    )
    expect(answer.first.locator(".prediction-score")).to_have_text(re.compile(r"^42\.4\s?%$"))
    expect(page.locator(".features h3")).to_have_count(3)
    assert heading_levels(page) == [1, 2, 3, 3, 3]
    assert horizontal_overflow(page) is None
    screenshot(page, "start-page")
