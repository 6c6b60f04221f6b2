"""The image intake as the services use it: limits from the settings, refusals translated."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image

from mirada.config import Settings
from mirada.services.errors import ServiceError
from mirada.vision.intake import ImageRejected, open_image


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
