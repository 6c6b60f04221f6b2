"""URL converters."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from mirada.db.base import MAX_ID


class IdConverter(IntegerConverter):
    """A database id in a URL: 1 to 2**31-1, so huge numbers answer 404, not a database error."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def valid_id(value: int | None) -> int | None:
    """``value`` if it can be a database id, else None (for ids in query strings)."""
    return value if value is not None and 1 <= value <= MAX_ID else None


def parse_id(raw: str | None) -> int | None:
    """A form or query value as a database id, or None.

    ASCII digits only: ``str.isdigit`` also accepts superscripts and other scripts' digits.
    """
    raw = (raw or "").strip()
    return valid_id(int(raw)) if raw.isascii() and raw.isdigit() else None
