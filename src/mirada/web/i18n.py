"""Which language a page is in (the user's choice, then a cookie, then Accept-Language) and
which time zone its times are shown in (the user's choice, then the browser's, then UTC)."""

from __future__ import annotations

from typing import cast

from flask import g, has_request_context, request

from mirada.services import timezones
from mirada.services.accounts import LOCALES

LANGUAGE_COOKIE = "mirada_lang"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
# Set by static/js/mirada.js from Intl.DateTimeFormat().resolvedOptions().timeZone.
TIMEZONE_COOKIE = "mirada_tz"


def select_locale() -> str:
    """The locale of this request (the default one outside a request: the CLI, say)."""
    if not has_request_context():
        return LOCALES[0]
    locale, _timezone = _choices()
    if locale in LOCALES:
        return locale
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def _choices() -> tuple[str | None, str | None]:
    """The signed-in user's language and time zone, as loaded with the user: an error page
    is still in the user's language when the database went away meanwhile (and the user
    can no longer be read)."""
    return cast(tuple[str | None, str | None], g.get("user_choices", (None, None)))


def browser_timezone() -> str | None:
    """The zone the browser reported in its cookie, when the zone database knows it."""
    if not has_request_context():
        return None
    name = request.cookies.get(TIMEZONE_COOKIE)
    return name if timezones.is_known(name) else None


def select_timezone() -> str | None:
    """The zone of this request's times; None means Flask-Babel's default, UTC."""
    if not has_request_context():
        return None
    _locale, timezone = _choices()
    if timezones.is_known(timezone):
        return timezone
    return browser_timezone()
