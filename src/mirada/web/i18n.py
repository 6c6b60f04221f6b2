"""Which language a page is in: the user's choice, then a cookie, then Accept-Language."""

from __future__ import annotations

from flask import has_request_context, request

from mirada.services.accounts import LOCALES
from mirada.web.current_user import current_user

LANGUAGE_COOKIE = "mirada_lang"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def select_locale() -> str:
    """The locale of this request (the default one outside a request: the CLI, say)."""
    if not has_request_context():
        return LOCALES[0]
    user = current_user()
    if user is not None and user.locale in LOCALES:
        return user.locale
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LOCALES:
        return cookie
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]
