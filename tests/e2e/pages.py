"""What a person does in the browser, written once: register, sign in and out, open the menu."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel.support import NullTranslations, Translations
from playwright.sync_api import Dialog, Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = REPO_ROOT / "src" / "mirada" / "web" / "translations"
PASSWORD = "correct horse battery"  # what the helpers register users with
HOME_ANONYMOUS = "Image classification you host yourself"


@dataclass(frozen=True)
class LiveServer:
    """The running server: where it listens and who administers it."""

    url: str
    admin_email: str
    admin_password: str


@cache
def catalog(locale: str) -> NullTranslations:
    """The compiled message catalog the server reads for ``locale``."""
    return Translations.load(str(TRANSLATIONS), [locale])


def nav(page: Page) -> Locator:
    return page.locator("#site-nav")


def open_nav(page: Page) -> Locator:
    """The main navigation, unfolded first where it hides behind the phone's "Menu" button."""
    # mirada.js (deferred) unhides the toggle and folds the menu; decide only once it ran.
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav(page)).to_be_visible()
    return nav(page)


def flash(page: Page) -> Locator:
    return page.locator(".flashes .flash")


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def nav_item(page: Page, role: Literal["link", "button"], name: str) -> Locator:
    """A link or button of the navigation, folded away or not."""
    return nav(page).get_by_role(role, name=name, exact=True, include_hidden=True)


def expect_signed_in(page: Page) -> None:
    expect(nav_item(page, "button", "Sign out")).to_have_count(1)
    expect(nav_item(page, "link", "Sign in")).to_have_count(0)


def expect_signed_out(page: Page) -> None:
    expect(nav_item(page, "link", "Sign in")).to_have_count(1)
    expect(nav_item(page, "button", "Sign out")).to_have_count(0)


def fill_register(page: Page, email: str, password: str = PASSWORD, name: str = "") -> None:
    form = page.locator("main form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Name (optional)").fill(name)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_label("Repeat the password").fill(password)
    form.get_by_role("button", name="Create account").click()


def register(page: Page, email: str, password: str = PASSWORD, name: str = "") -> None:
    """Create an account; the browser is then signed in on the start page."""
    page.goto("/auth/register")
    fill_register(page, email, password, name)
    expect(heading(page)).to_have_text(f"Hello, {name or email}")


def sign_in(page: Page, email: str, password: str = PASSWORD, *, remember: bool = False) -> None:
    """Fill and send the sign-in form (from the sign-in page, or whatever page we are on)."""
    if "/auth/login" not in page.url:
        page.goto("/auth/login")
    form = page.locator("main form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_label("Remember me").set_checked(remember)
    form.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    """Sign out with the button in the navigation; lands on the sign-in page."""
    open_nav(page).get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(flash(page)).to_have_text("You have signed out.")


def session_cookie(page: Page) -> dict[str, Any] | None:
    """The ``mirada_session`` cookie of the page's browser context."""
    cookies = [c for c in page.context.cookies() if c["name"] == "mirada_session"]
    return dict(cookies[0]) if cookies else None


def switch_language(page: Page, locale: str) -> None:
    """Pick a language in the navigation's switcher; it submits itself (JavaScript)."""
    open_nav(page).locator("select[name=locale]").select_option(locale)
    expect(page.locator("html")).to_have_attribute("lang", locale)


def unlabelled_fields(page: Page) -> list[str]:
    """Form fields (hidden inputs aside) that no <label> names, as HTML snippets.

    A field is named by a ``label[for=<its id>]`` or by a <label> around it.
    """
    fields = page.locator("input:not([type=hidden]), select, textarea")
    missing: list[str] = fields.evaluate_all(
        """els => els.filter(el => !el.closest("label") && !(el.id &&
              document.querySelectorAll(`label[for="${CSS.escape(el.id)}"]`).length))
            .map(el => el.outerHTML)"""
    )
    return missing


def duplicate_field_ids(page: Page) -> list[str]:
    """Ids that more than one visible-kind form field carries (labels would point at the first)."""
    ids: list[str] = page.locator("input:not([type=hidden]), select, textarea").evaluate_all(
        "els => els.map(el => el.id).filter(Boolean)"
    )
    return sorted({i for i in ids if ids.count(i) > 1})


def horizontal_overflow(page: Page) -> tuple[int, int] | None:
    """``(scrollWidth, width)`` when the page scrolls sideways, else None.

    On an emulated phone Chromium widens ``window.innerWidth`` to fit content that
    overflows, so the comparison is with the layout width (``clientWidth``) and the
    viewport the context was opened with.
    """
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    viewport = page.viewport_size
    width = min(client_width, viewport["width"] if viewport else client_width)
    return (scroll_width, width) if scroll_width > width else None


def answer_confirmation(page: Page, *, accept: bool) -> list[str]:
    """Answer the page's next ``window.confirm``; the list gets the question it asked."""
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    return asked


def heading_levels(page: Page) -> list[int]:
    """The levels of the page's visible headings, in document order."""
    levels: list[int] = page.locator("h1, h2, h3, h4, h5, h6").evaluate_all(
        "els => els.filter(el => el.getClientRects().length).map(el => Number(el.tagName[1]))"
    )
    return levels


def words_broken_across_lines(locator: Locator) -> list[str]:
    """Words of the element's text that the layout split over two lines."""
    broken: list[str] = locator.evaluate(
        """el => {
            const found = [];
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              for (const match of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
                if (lines.size > 1) found.push(match[0]);
              }
            }
            return found;
        }"""
    )
    return broken
