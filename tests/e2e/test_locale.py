"""A Spanish browser in Madrid: local times and Spanish percentages, the same on every page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import VIEWPORTS
from tests.e2e.pages import PASSWORD, LiveServer, catalog

pytestmark = pytest.mark.e2e

MADRID = "Europe/Madrid"
SPANISH_PERCENT = re.compile(r"^\d{1,3},\d\u00a0%$")


@pytest.fixture
def madrid(browser: Browser, live_server: LiveServer, viewport: str) -> Iterator[BrowserContext]:
    """A browser set to Spanish (Spain) in the Madrid time zone, at the test's viewport."""
    context = browser.new_context(
        base_url=live_server.url, locale="es-ES", timezone_id=MADRID, **VIEWPORTS[viewport]
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_a_new_classification_shows_madrid_time_and_spanish_percentages(
    madrid: BrowserContext,
    unique_email: Callable[[str], str],
    tmp_path: Path,
    cat_jpeg: bytes,
    screenshot: Callable[[Page, str], Path],
) -> None:
    page = madrid.new_page()
    page.goto("/auth/register")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))  # mirada.js has run
    form = page.locator("main form")
    form.locator("input[name=email]").fill(unique_email("madrid"))
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=confirm]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    welcome = catalog("es").gettext("Welcome to Mirada! Your account is ready.")
    expect(page.locator(".flashes .flash")).to_have_text(welcome)

    photo = tmp_path / "gata.jpg"
    photo.write_bytes(cat_jpeg)
    page.goto("/classify")
    page.set_input_files("#photos", [photo])
    scores = page.locator("#results .result-card .prediction-score")
    expect(scores).to_have_count(5, timeout=30_000)
    shown_on_classify = scores.all_inner_texts()
    assert all(SPANISH_PERCENT.fullmatch(score) for score in shown_on_classify), shown_on_classify

    page.goto("/history")
    item = page.locator(".history-item").first
    stamp = item.locator("time")
    expect(stamp).to_have_attribute("title", MADRID)
    moment = datetime.fromisoformat(stamp.get_attribute("datetime") or "")
    assert moment.utcoffset() is not None and not moment.utcoffset()  # stored in UTC
    local = moment.astimezone(ZoneInfo(MADRID))
    # What the browser itself, set to Madrid, calls that moment.
    browser_clock = page.evaluate(
        "iso => new Date(iso).toLocaleTimeString('es-ES', {hour: 'numeric', minute: '2-digit'})",
        moment.isoformat(),
    )
    assert browser_clock == f"{local.hour}:{local.minute:02d}"  # Spanish: 0:11, not 00:11
    assert local.utcoffset() != moment.utcoffset()  # Madrid is never on UTC
    expect(stamp).to_contain_text(browser_clock)
    assert re.fullmatch(rf"{local.day} \w+ {local.year}, {browser_clock}", stamp.inner_text())
    top = item.locator(".history-title .muted").inner_text()
    assert top == shown_on_classify[0]  # one format: the script's and the server's agree
    screenshot(page, "history-es-madrid")

    page.goto("/account/")
    expect(page.locator("select[name=timezone] option:checked")).to_have_attribute("value", MADRID)
    screenshot(page, "account-es-madrid")
