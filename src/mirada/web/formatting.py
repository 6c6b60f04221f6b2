"""How moments read on the pages: one format per kind, in the page's locale and time zone.
Percentages are ``mirada.presenters.numbers.percent``, which the CLI and the presenters share."""

from __future__ import annotations

from datetime import datetime

from babel.dates import get_datetime_format
from flask_babel import format_date, format_time, get_locale, get_timezone
from markupsafe import Markup


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
