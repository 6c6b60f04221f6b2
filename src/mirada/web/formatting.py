"""How numbers and moments read on the pages: one format per kind, in the page's locale and
time zone. The JavaScript that formats percentages (static/js/classify.js) matches ``percent``."""

from __future__ import annotations

import copy
from datetime import datetime

from babel import Locale
from babel.dates import get_datetime_format
from flask_babel import format_date, format_time, get_locale, get_timezone
from markupsafe import Markup

PERCENT_DIGITS = 1


def percent(value: float, digits: int = PERCENT_DIGITS) -> str:
    """``value`` (0.304) as the locale writes a percentage ("30.4%", "30,4 %")."""
    locale = get_locale() or Locale("en")  # outside a request: the default language
    pattern = copy.copy(locale.percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return str(pattern.apply(value, locale))


def date_text(value: datetime) -> str:
    """The day of ``value`` in the page's zone, medium length ("30 Nov 2026")."""
    return str(format_date(value, "medium"))


def datetime_text(value: datetime, *, seconds: bool = False) -> str:
    """``value`` in the page's zone: medium date and short time ("Nov 30, 2026, 6:04 PM"), or
    medium time with ``seconds``, for pages that set moments minutes apart side by side."""
    return (
        str(get_datetime_format("medium", locale=get_locale()))
        .replace("'", "")
        .replace("{0}", str(format_time(value, "medium" if seconds else "short")))
        .replace("{1}", date_text(value))
    )


def moment(value: datetime, *, seconds: bool = False) -> Markup:
    """A ``<time>`` element for ``value``: machine-readable UTC, readable local, zone as title."""
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.isoformat(), str(get_timezone()), datetime_text(value, seconds=seconds)
    )
