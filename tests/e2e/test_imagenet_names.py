"""A Spanish reader in the browser: ImageNet classes named in Spanish, live and in the history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import heading, register, switch_language

pytestmark = pytest.mark.e2e


def test_spanish_names_on_the_classify_page_and_in_the_history(
    page: Page,
    unique_email: Callable[[str], str],
    tmp_path: Path,
    cat_jpeg: bytes,
    screenshot: Callable[[Page, str], Path],
) -> None:
    photo = tmp_path / "chelsea.jpg"
    photo.write_bytes(cat_jpeg)
    register(page, unique_email("gato"))
    switch_language(page, "es")
    page.goto("/classify")
    expect(heading(page)).to_have_text("Clasificar fotos")

    page.set_input_files("#photos", [photo])
    predictions = page.locator("#results .result-card .predictions")
    expect(predictions).to_contain_text("gato egipcio", timeout=30_000)
    expect(predictions).not_to_contain_text("Egyptian cat")
    screenshot(page, "classify-results-es")

    page.goto("/history")
    item = page.locator(".history-item")
    expect(item).to_have_count(1)
    expect(item.locator(".history-title")).to_contain_text("gato")
    expect(item).not_to_contain_text("Egyptian cat")
    screenshot(page, "history-es")
