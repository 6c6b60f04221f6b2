"""The words for a refused image (the intake's limits) and for a server with no room to
decode one; sizes in the reader's number format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording


def _millions(n: float) -> str:
    """``n`` in millions (megabytes, megapixels), one decimal at most, as the reader writes it."""
    return str(format_decimal(n / 1e6, "#,##0.#"))


def _too_large(params: Mapping[str, Any]) -> str:
    return str(
        _("The file is larger than the limit of %(mb)s MB.", mb=_millions(params["max_bytes"]))
    )


def _too_many_pixels(params: Mapping[str, Any]) -> str:
    """How many pixels are allowed, and how to make the photo acceptable."""
    jpeg_mp = _millions(params["max_jpeg_pixels"])
    if params["jpeg"]:
        return str(
            _(
                "The photo has more pixels than the limit of %(mp)s megapixels for JPEG. "
                "Scale it down to at most %(mp)s megapixels.",
                mp=jpeg_mp,
            )
        )
    return str(
        _(
            "The image has more pixels than the limit of %(mp)s megapixels. Export it as JPEG "
            "(up to %(jpeg)s megapixels) or scale it down to at most %(mp)s megapixels.",
            mp=_millions(params["max_pixels"]),
            jpeg=jpeg_mp,
        )
    )


REFUSALS: dict[str, Wording] = {
    "empty": _l("The file is empty."),
    "too_large": _too_large,
    "too_many_pixels": _too_many_pixels,
    "unsupported_format": _l(
        "This file type is not supported. Use a JPEG, PNG, WebP, GIF or BMP image."
    ),
    "truncated": _l("The image file is incomplete (truncated). Upload it again."),
    "corrupt": _l("The image file is damaged and cannot be read."),
    "busy": _l("The server is busy reading other photos. Try again in a moment."),
}
