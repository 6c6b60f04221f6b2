"""Adding many phone photos at once, and error pages that keep the user where they were."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from skimage import data

from tests.e2e.conftest import VIEWPORTS
from tests.e2e.pages import (
    LiveServer,
    expect_signed_in,
    flash,
    heading,
    horizontal_overflow,
    register,
)

pytestmark = pytest.mark.e2e

PHOTOS = 10
PHONE_SIZE = (3264, 2448)  # an 8-megapixel phone camera

# Every value the per-file progress bars take, by file name, kept in sessionStorage.
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const seen = {};
  new MutationObserver(() => {
    document.querySelectorAll(".upload-item").forEach((row) => {
      const name = row.querySelector(".upload-name").textContent;
      const bar = row.querySelector("progress");
      const values = (seen[name] = seen[name] || []);
      if (bar && bar.hasAttribute("value")) values.push(bar.value);
    });
    sessionStorage.setItem("upload-progress", JSON.stringify(seen));
  }).observe(document.body, { attributes: true, childList: true, subtree: true });
});
"""


@pytest.fixture(scope="module")
def phone_photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Ten real-looking phone JPEGs of about 2.5 MB: skimage photos upscaled, with sensor
    noise (what makes phone photos large), each different from the others."""
    folder = tmp_path_factory.mktemp("phone-photos")
    noise = np.random.default_rng(7).integers(-9, 10, (*PHONE_SIZE[::-1], 3), dtype=np.int16)
    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    paths = []
    for number in range(PHOTOS):
        source = Image.fromarray(sources[number % len(sources)]).resize(PHONE_SIZE, Image.BICUBIC)
        pixels = np.asarray(source, dtype=np.int16) + np.roll(noise, 11 * number, axis=1)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=94)
        path = folder / f"IMG_{20260 + number}.jpg"
        path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


def new_project(page: Page, name: str, classes: list[str]) -> str:
    """Create a project with these classes through the pages; the project page's path."""
    page.goto("/projects")
    form = page.locator("main form").first
    form.get_by_label("Name").fill(name)
    form.get_by_role("button", name="Create project").click()
    expect(heading(page)).to_have_text(name)
    for cls in classes:
        add = page.locator("form.add-class-form")
        add.get_by_label("Class name").fill(cls)
        add.get_by_role("button", name="Add class").click()
        expect(flash(page)).to_have_text(f"The class {cls} has been added.")
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0].split("?")[0]


def test_ten_phone_photos_are_added_each_with_its_progress(
    page: Page,
    unique_email: Callable[[str], str],
    phone_photos: list[Path],
    screenshot: Callable[[Page, str], Path],
) -> None:
    assert all(2_000_000 < path.stat().st_size < 3_500_000 for path in phone_photos)
    assert sum(path.stat().st_size for path in phone_photos) > 21_000_000  # the old cap
    page.add_init_script(WATCH_PROGRESS)
    register(page, unique_email("phone"))
    new_project(page, "Holiday", ["beach", "city"])

    upload = page.locator("form.upload-examples-form")
    upload.get_by_label("Class").select_option(label="city")
    upload.locator("input[type=file]").set_input_files(phone_photos)
    upload.get_by_role("button", name="Upload photos").click()

    rows = page.locator(".upload-list .upload-item")
    expect(rows).to_have_count(PHOTOS)
    summary = page.locator(".upload-summary")
    expect(summary).to_contain_text(f"Photos added: {PHOTOS} of {PHOTOS}.", timeout=120_000)
    expect(page.locator(".upload-list .upload-done")).to_have_count(PHOTOS)
    expect(page.locator(".upload-list .upload-status")).to_have_text(
        ["Added to the class"] * PHOTOS
    )
    progress = json.loads(page.evaluate("sessionStorage.getItem('upload-progress')") or "{}")
    assert sorted(progress) == sorted(path.name for path in phone_photos)
    for name, values in progress.items():
        assert values and max(values) > 0, (name, values)  # its own bar moved
    assert horizontal_overflow(page) is None
    screenshot(page, "project-upload-many")

    summary.get_by_role("link", name="Show the new photos").click()
    card = page.locator(".class-card").filter(has=page.get_by_role("heading", name="city"))
    expect(card.locator(".class-card-count")).to_have_text(f"{PHOTOS} examples")


def test_the_class_page_adds_photos_the_same_way(
    page: Page, unique_email: Callable[[str], str], phone_photos: list[Path]
) -> None:
    register(page, unique_email("class"))
    new_project(page, "Pets", ["cat"])
    page.locator(".class-card").get_by_role("link", name="cat").click()
    expect(heading(page)).to_have_text("cat")
    form = page.locator("form.photo-upload-form")
    form.locator("input[type=file]").set_input_files(phone_photos[:3])
    form.get_by_role("button", name="Upload photos").click()
    expect(page.locator(".upload-summary")).to_contain_text("Photos added: 3 of 3.", timeout=60_000)
    page.get_by_role("link", name="Show the new photos").click()
    expect(page.locator(".selection-form img")).to_have_count(3)


def test_an_error_page_keeps_the_signed_in_header_and_leads_back(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    viewport: str,
    unique_email: Callable[[str], str],
    tmp_path: Path,
    screenshot: Callable[[Page, str], Path],
) -> None:
    email = unique_email("lost")
    register(page, email)
    project = new_project(page, "Lost", ["a"])
    page.evaluate("location.href = location.pathname + '/classes/987654'")
    expect(heading(page)).to_have_text("Page not found")
    expect_signed_in(page)
    back = page.get_by_role("link", name="Go back")
    expect(back).to_have_attribute("href", project)
    expect(page.get_by_role("link", name="Go to the start page")).to_be_visible()
    screenshot(page, "error-back")
    back.click()
    expect(heading(page)).to_have_text("Lost")

    # A photo over the request limit, sent by a browser without JavaScript: Werkzeug's 413.
    plain = browser.new_context(
        base_url=live_server.url, locale="en-US", java_script_enabled=False, **VIEWPORTS[viewport]
    )
    try:
        other = plain.new_page()
        register(other, unique_email("plain"))
        other.goto("/classify")
        big = tmp_path / "huge.jpg"
        big.write_bytes(b"\xff\xd8\xff" + bytes(25_000_000))
        other.locator("#photos").set_input_files(big)
        other.get_by_role("button", name="Classify", exact=True).click()
        expect(heading(other)).to_have_text("Too large")
        expect_signed_in(other)
        expect(other.get_by_role("link", name="Go back")).to_have_attribute("href", "/classify")
        screenshot(other, "error-too-large")
    finally:
        plain.close()
