"""Accounts in a real browser against the real server, on a desktop and on a phone."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import (
    HOME_ANONYMOUS,
    PASSWORD,
    LiveServer,
    answer_confirmation,
    catalog,
    duplicate_field_ids,
    expect_signed_in,
    expect_signed_out,
    fill_register,
    flash,
    heading,
    horizontal_overflow,
    nav_item,
    open_nav,
    register,
    session_cookie,
    sign_in,
    sign_out,
    switch_language,
    unlabelled_fields,
)
from tests.support.mail import MailCatcher

pytestmark = pytest.mark.e2e

Screenshot = Callable[[Page, str], Path]
Emails = Callable[..., str]
DAY_S = 24 * 3600


def test_register_lands_signed_in_on_the_start_page(
    page: Page, unique_email: Emails, screenshot: Screenshot
) -> None:
    page.goto("/")
    expect(heading(page)).to_have_text(HOME_ANONYMOUS)
    screenshot(page, "home-anonymous")

    open_nav(page).get_by_role("link", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/auth/register$"))
    expect(heading(page)).to_have_text("Create account")
    screenshot(page, "register")

    email = unique_email()
    fill_register(page, email, name="Ada Lovelace")

    expect(page).to_have_url(re.compile(r"/$"))
    expect(heading(page)).to_have_text("Hello, Ada Lovelace")
    expect(flash(page)).to_have_text("Welcome to Mirada! Your account is ready.")
    expect_signed_in(page)
    screenshot(page, "home")


@pytest.mark.parametrize("viewport", ["desktop"])  # the server's check; one viewport will do
def test_register_refuses_a_taken_email_and_shows_the_error_by_its_field(
    page: Page, unique_email: Emails, new_page: Callable[[], Page]
) -> None:
    email = unique_email()
    register(new_page(), email)

    page.goto("/auth/register")
    fill_register(page, email)

    expect(page).to_have_url(re.compile(r"/auth/register$"))
    email_field = page.locator("main form").get_by_label("Email")
    expect(email_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-errors")).to_have_text("An account with this email already exists.")
    expect_signed_out(page)


def test_sign_out_then_sign_in_with_remember_me(
    page: Page, unique_email: Emails, screenshot: Screenshot, new_page: Callable[[], Page]
) -> None:
    email = unique_email()
    register(page, email)
    cookie = session_cookie(page)
    assert cookie is not None
    assert cookie["expires"] == -1, "a session without 'Remember me' ends with the browser"
    assert cookie["httpOnly"]

    sign_out(page)
    expect_signed_out(page)
    screenshot(page, "login")

    # The cookie of the ended session is worth nothing now, even replayed.
    replay = new_page()
    replay.context.add_cookies([{**cookie, "expires": -1}])  # type: ignore[list-item]
    replay.goto("/account/")
    expect(replay).to_have_url(re.compile(r"/auth/login\?next=/account/$"))

    sign_in(page, email)
    expect(heading(page)).to_have_text(f"Hello, {email}")
    cookie = session_cookie(page)
    assert cookie is not None and cookie["expires"] == -1

    sign_out(page)
    sign_in(page, email, remember=True)
    expect(heading(page)).to_have_text(f"Hello, {email}")
    cookie = session_cookie(page)
    assert cookie is not None
    assert cookie["expires"] > time.time() + 29 * DAY_S, "'Remember me' keeps the cookie 30 days"


def test_language_switcher_turns_the_pages_spanish_and_back(
    page: Page, unique_email: Emails, screenshot: Screenshot
) -> None:
    register(page, unique_email(), name="Ada")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    english_nav = open_nav(page).inner_text()

    switch_language(page, "es")

    es = catalog("es")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(nav_item(page, "link", es.gettext("Account"))).to_have_count(1)
    expect(nav_item(page, "button", es.gettext("Sign out"))).to_have_count(1)
    expect(heading(page)).to_have_text(es.gettext("Hello, %(name)s") % {"name": "Ada"})
    nav_messages = ["Account", "Sign out", "Language", "Change language"]
    if any(es.gettext(m) != m for m in nav_messages):
        assert open_nav(page).inner_text() != english_nav
    screenshot(page, "home-es")

    # The choice belongs to the account: other pages, and the profile form, follow it.
    page.goto("/account/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#locale")).to_have_value("es")
    screenshot(page, "account-es")

    switch_language(page, "en")
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(heading(page)).to_have_text("Account")
    expect(page.locator("#locale")).to_have_value("en")
    assert open_nav(page).inner_text() == english_nav


def test_changing_the_password_signs_out_the_other_browsers(
    page: Page, unique_email: Emails, new_page: Callable[[], Page], screenshot: Screenshot
) -> None:
    email = unique_email()
    new_password = "a brand new passphrase"
    register(page, email)
    other = new_page()
    sign_in(other, email)
    expect_signed_in(other)

    page.goto("/account/")
    expect(page.get_by_text(re.compile(r"signed in on 2 browsers\b"))).to_be_visible()
    screenshot(page, "account")
    form = page.locator("form[action$='/account/password']")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password").fill(new_password)
    form.get_by_label("Repeat the password").fill(new_password)
    form.get_by_role("button", name="Change password").click()

    expect(flash(page)).to_have_text(
        "Your password has been changed. Your other sessions have been signed out."
    )
    expect(page.get_by_text(re.compile(r"signed in on 1 browser\b"))).to_be_visible()
    expect_signed_in(page)

    other.reload()
    expect(heading(other)).to_have_text(HOME_ANONYMOUS)
    expect_signed_out(other)
    other.goto("/account/")
    expect(other).to_have_url(re.compile(r"/auth/login\?next=/account/$"))

    sign_in(other, email, PASSWORD)
    expect(other.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect_signed_out(other)

    sign_in(other, email, new_password)
    expect(other).to_have_url(re.compile(r"/account/$"))
    expect(heading(other)).to_have_text("Account")


def test_forgotten_password_by_mailed_single_use_link(
    page: Page, unique_email: Emails, mail_catcher: MailCatcher, screenshot: Screenshot
) -> None:
    email = unique_email()
    new_password = "reset passphrase works"
    register(page, email)
    sign_out(page)

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/auth/forgot$"))
    screenshot(page, "forgot")
    page.locator("main form").get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(flash(page)).to_contain_text("If an account exists for that address")

    link = mail_catcher.last_link(email)
    assert "/auth/reset/" in link
    response = page.goto(link)
    assert response is not None and response.status == 200
    expect(heading(page)).to_have_text("Choose a new password")
    screenshot(page, "reset")
    form = page.locator("main form")
    form.get_by_label("New password").fill(new_password)
    form.get_by_label("Repeat the password").fill(new_password)
    form.get_by_role("button", name="Save the new password").click()

    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(flash(page)).to_have_text("Your password has been changed. Sign in with the new one.")
    sign_in(page, email, new_password)
    expect(heading(page)).to_have_text(f"Hello, {email}")

    response = page.goto(link)
    assert response is not None and response.status == 410
    expect(heading(page)).to_have_text("Link not valid")
    expect(page.get_by_role("alert")).to_have_text(
        "This reset link is invalid, used or expired. Ask for a new one."
    )
    screenshot(page, "reset-invalid")


def test_admin_disables_a_user_who_is_signed_out_at_once(
    page: Page,
    unique_email: Emails,
    new_page: Callable[[], Page],
    live_server: LiveServer,
    screenshot: Screenshot,
) -> None:
    email = unique_email()
    register(page, email, name="To Be Disabled")

    admin = new_page()
    sign_in(admin, live_server.admin_email, live_server.admin_password)
    expect_signed_in(admin)
    open_nav(admin).get_by_role("link", name="Users").click()
    expect(admin).to_have_url(re.compile(r"/admin/users$"))
    admin.get_by_label("Search by email or name").fill(email)
    admin.get_by_role("button", name="Search").click()
    row = admin.locator("tbody tr", has_text=email)
    expect(row).to_have_count(1)
    expect(admin.get_by_text("1 user", exact=True)).to_be_visible()
    screenshot(admin, "admin-users")

    # Disabling is destructive: it looks it (red, unlike "Make administrator"), and asks first.
    disable = row.get_by_role("button", name="Disable")
    colours = [
        button.evaluate("el => getComputedStyle(el).color")
        for button in (disable, row.get_by_role("button", name="Make administrator"))
    ]
    assert colours[0] == "rgb(164, 38, 44)" and colours[1] != colours[0], colours
    asked = answer_confirmation(admin, accept=False)
    disable.click()
    assert asked == [
        f"Disable {email}? They are signed out at once and cannot sign in until an "
        "administrator enables the account again."
    ]
    expect(row.locator(".badge-ok")).to_have_text("Active")
    answer_confirmation(admin, accept=True)
    disable.click()
    expect(flash(admin)).to_have_text(f"{email} is disabled and signed out.")
    expect(admin).to_have_url(re.compile(r"/admin/users\?q="))
    expect(row.locator(".badge-off")).to_have_text("Disabled")
    expect(row.get_by_role("button", name="Enable")).to_be_visible()

    page.reload()
    expect(heading(page)).to_have_text(HOME_ANONYMOUS)
    expect_signed_out(page)

    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_role("alert")).to_have_text(
        "This account is disabled. Contact an administrator."
    )
    expect_signed_out(page)


def test_forms_are_labelled_and_pages_do_not_scroll_sideways(
    page: Page, unique_email: Emails, new_page: Callable[[], Page], live_server: LiveServer
) -> None:
    problems: dict[str, object] = {}

    def check(browser_page: Page, path: str = "") -> None:
        if path:
            browser_page.goto(path)
        name = browser_page.url.removeprefix(live_server.url)
        if missing := unlabelled_fields(browser_page):
            problems[f"{name}: fields without a label"] = missing
        if duplicates := duplicate_field_ids(browser_page):
            problems[f"{name}: duplicate field ids"] = duplicates
        if overflow := horizontal_overflow(browser_page):
            problems[f"{name}: scrolls sideways (scrollWidth, width)"] = overflow

    for path in (
        "/",
        "/auth/register",
        "/auth/login",
        "/auth/forgot",
        "/auth/reset/not-a-token",
        "/no-such-page",
    ):
        check(page, path)

    register(page, unique_email(), name="Grace Hopper")
    check(page)
    check(page, "/account/")

    admin = new_page()
    sign_in(admin, live_server.admin_email, live_server.admin_password)
    expect_signed_in(admin)
    check(admin, "/admin/users")

    assert not problems, problems


@pytest.mark.parametrize("viewport", ["phone"])
def test_a_long_email_as_the_name_fits_the_phone_screen(page: Page) -> None:
    # A real-looking address without display name: the start page greets the user by it.
    email = f"margaret.{uuid.uuid4().hex[:6]}@university.example.com"
    register(page, email)
    assert horizontal_overflow(page) is None, horizontal_overflow(page)


@pytest.mark.parametrize("viewport", ["desktop"])
def test_switching_language_after_a_refused_form_stays_on_the_page(
    page: Page, unique_email: Emails
) -> None:
    register(page, unique_email(), name="Polyglot")
    page.goto("/account/")
    form = page.locator("form[action$='/account/password']")
    form.get_by_label("Current password").fill("not the password")
    form.get_by_label("New password").fill("short")
    form.get_by_label("Repeat the password").fill("short")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_label("New password")).to_have_attribute("aria-invalid", "true")

    switch_language(page, "es")
    assert page.locator(".error-code").count() == 0, page.locator("h1").inner_text()
    expect(page.locator("#locale")).to_have_value("es")


@pytest.mark.parametrize("viewport", ["desktop"])
def test_signing_in_after_a_stale_sign_out_lands_on_a_page(
    page: Page, unique_email: Emails, new_page: Callable[[], Page]
) -> None:
    email = unique_email()
    register(page, email)
    other = new_page()
    sign_in(other, email)
    expect_signed_in(other)
    sign_out(page)
    sign_in(page, email)
    expect_signed_in(page)
    page.goto("/account/")
    form = page.locator("form[action$='/account/password']")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password").fill("yet another passphrase")
    form.get_by_label("Repeat the password").fill("yet another passphrase")
    form.get_by_role("button", name="Change password").click()
    expect(flash(page)).to_contain_text("Your password has been changed.")

    # ``other`` still shows its signed-in page; its session ended meanwhile.
    open_nav(other).get_by_role("button", name="Sign out").click()
    expect(other).to_have_url(re.compile(r"/auth/login"))
    sign_in(other, email, "yet another passphrase")
    expect(other).not_to_have_url(re.compile(r"/auth/login"))
    assert other.locator(".error-code").count() == 0, (other.url, other.locator("h1").inner_text())
    expect_signed_in(other)


def test_an_administrator_invites_someone_who_then_creates_an_account(
    unique_email: Emails,
    new_page: Callable[[], Page],
    live_server: LiveServer,
    screenshot: Screenshot,
) -> None:
    admin = new_page()
    sign_in(admin, live_server.admin_email, live_server.admin_password)
    expect_signed_in(admin)
    open_nav(admin).get_by_role("link", name="Invitations").click()
    expect(admin).to_have_url(re.compile(r"/admin/invitations$"))
    email = unique_email()
    admin.locator("main form").get_by_label("Email").fill(email)
    admin.get_by_role("button", name="Make an invitation link").click()
    link = admin.locator(".invitation-link")
    expect(link).to_contain_text("/auth/invitation/")
    assert horizontal_overflow(admin) is None
    screenshot(admin, "admin-invitation")

    guest = new_page()
    response = guest.goto(link.inner_text())
    assert response is not None and response.status == 200
    expect(guest.get_by_text(f"You have been invited to Mirada as {email}.")).to_be_visible()
    screenshot(guest, "invitation")
    form = guest.locator("main form")
    form.get_by_label("Name (optional)").fill("Invited Guest")
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_label("Repeat the password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()

    expect(guest).to_have_url(re.compile(r"/$"))
    expect(heading(guest)).to_have_text("Hello, Invited Guest")
    expect_signed_in(guest)
