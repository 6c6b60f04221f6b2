"""Numbers as the reader's locale writes them, for every door: pages, templates and CLI.
static/js/classify.js formats percentages the same way."""

from __future__ import annotations

import copy

from babel import Locale
from flask_babel import get_locale

PERCENT_DIGITS = 1


def percent(value: float, digits: int = PERCENT_DIGITS) -> str:
    """``value`` (0.304) as the locale writes a percentage ("30.4%", "30,4 %")."""
    locale = get_locale() or Locale("en")  # outside a request (the CLI): English
    pattern = copy.copy(locale.percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return str(pattern.apply(value, locale))
