"""The image intake as the services use it: limits from the settings, refusals translated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image

from mirada.config import Settings
from mirada.services.errors import ServiceError
from mirada.vision.intake import ImageRejected, open_image

T = TypeVar("T")
DECODED_PIXEL_BUDGET = 48_000_000  # about 150 MB of RGB


class ImageRefused(ServiceError):
    """An upload the intake refused; its status depends on why."""

    STATUS = {"too_large": 413, "too_many_pixels": 413, "unsupported_format": 415}

    def __init__(self, code: str, message: object) -> None:
        super().__init__(code, message)  # type: ignore[arg-type]
        self.status = self.STATUS.get(code, 422)


def _message(code: str, settings: Settings) -> object:
    megabytes = format_decimal(settings.max_upload_bytes / 1e6, "#,##0.#")
    megapixels = format_decimal(settings.max_image_pixels / 1e6, "#,##0.#")
    messages = {
        "empty": _l("The file is empty."),
        "too_large": _l("The file is larger than the limit of %(mb)s MB.", mb=megabytes),
        "unsupported_format": _l(
            "This file type is not supported. Use a JPEG, PNG, WebP, GIF or BMP image."
        ),
        "too_many_pixels": _l(
            "The image has more pixels than the limit of %(mp)s megapixels.", mp=megapixels
        ),
        "truncated": _l("The image file is incomplete (truncated). Upload it again."),
        "corrupt": _l("The image file is damaged and cannot be read."),
    }
    return messages.get(code, messages["corrupt"])


def open_upload(data: bytes, *, settings: Settings) -> Image.Image:
    """Decode an uploaded image, or raise ImageRefused with a message for a person."""
    try:
        return open_image(
            data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels
        )
    except ImageRejected as exc:
        raise ImageRefused(exc.code, _message(exc.code, settings)) from None


_CONTENT_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def content_type_of(data: bytes) -> str:
    """The media type of an image the intake accepted, from its leading bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for signature, content_type in _CONTENT_TYPES:
        if data.startswith(signature):
            return content_type
    return "application/octet-stream"


def decoded_batches(
    items: Iterable[T],
    decode: Callable[[T], Image.Image | None],
    *,
    max_count: int,
    max_pixels: int = DECODED_PIXEL_BUDGET,
) -> Iterator[list[tuple[T, Image.Image]]]:
    """Decode ``items`` into batches of at most ``max_count`` images and ``max_pixels`` pixels.

    However many photos a request or a job holds, only about ``max_pixels`` decoded
    pixels (or one larger image, alone) are in memory at once. Items whose ``decode``
    gives None are left out.
    """
    batch: list[tuple[T, Image.Image]] = []
    pixels = 0
    for item in items:
        image = decode(item)
        if image is None:
            continue
        size = image.width * image.height
        if batch and (len(batch) >= max_count or pixels + size > max_pixels):
            yield batch
            batch, pixels = [], 0
        batch.append((item, image))
        pixels += size
    if batch:
        yield batch
