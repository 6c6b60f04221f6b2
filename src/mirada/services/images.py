"""The image intake as the services use it: limits from the settings, refusals as codes
with the limits they name (worded by ``mirada.presenters.images``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from PIL import Image

from mirada.config import Settings
from mirada.services.errors import Busy, ServiceError
from mirada.vision.budget import BudgetExhausted, DecodeBudget
from mirada.vision.intake import Header, ImageRejected, decode, read_header

T = TypeVar("T")

CODES = ("empty", "too_large", "too_many_pixels", "unsupported_format", "truncated", "corrupt")


class ImageRefused(ServiceError):
    """An upload the intake refused; its status depends on why.

    Its params are the limits its words name: ``max_bytes`` (too_large), ``max_pixels``,
    ``max_jpeg_pixels`` and ``jpeg`` (too_many_pixels: a JPEG, which may be larger).
    """

    STATUS = {"too_large": 413, "too_many_pixels": 413, "unsupported_format": 415}

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code, **params)
        self.status = self.STATUS.get(code, 422)


def refused(error: ImageRejected, *, settings: Settings) -> ImageRefused:
    """The intake's refusal as a service refusal with the limits it was checked against."""
    if error.code == "too_many_pixels":
        return ImageRefused(
            error.code,
            max_pixels=settings.max_image_pixels,
            max_jpeg_pixels=max(settings.max_image_pixels, settings.max_jpeg_pixels),
            jpeg=error.jpeg,
        )
    if error.code == "too_large":
        return ImageRefused(error.code, max_bytes=settings.max_upload_bytes)
    return ImageRefused(error.code if error.code in CODES else "corrupt")


def read_upload(data: bytes, *, settings: Settings) -> Header:
    """Check an uploaded image from its header, or raise ImageRefused for a person."""
    try:
        return read_header(
            data,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
            max_jpeg_pixels=settings.max_jpeg_pixels,
        )
    except ImageRejected as exc:
        raise refused(exc, settings=settings) from None


def decode_upload(header: Header, *, settings: Settings) -> Image.Image:
    """Decode a checked upload, or raise ImageRefused (truncated, damaged)."""
    try:
        return decode(header)
    except ImageRejected as exc:
        raise refused(exc, settings=settings) from None


def busy(*, settings: Settings) -> Busy:
    """The refusal when decoding has no room: try again in a moment."""
    return Busy("busy", retry_after_s=max(1, math.ceil(settings.decode_wait_s)))


@contextmanager
def decoded_upload(
    data: bytes, *, settings: Settings, budget: DecodeBudget
) -> Iterator[Image.Image]:
    """The decoded upload, its memory reserved from ``budget`` for the block.

    It waits ``settings.decode_wait_s`` at most for that memory, then raises ``Busy``.
    """
    header = read_upload(data, settings=settings)
    try:
        budget.acquire(header.cost, timeout=settings.decode_wait_s)
    except BudgetExhausted:
        raise busy(settings=settings) from None
    try:
        yield decode_upload(header, settings=settings)
    finally:
        budget.release(header.cost)


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
    read: Callable[[T], Header | None],
    decode: Callable[[T, Header], Image.Image | None],
    *,
    max_count: int,
    budget: DecodeBudget,
    timeout: float | None,
) -> Iterator[list[tuple[T, Image.Image]]]:
    """Decode ``items`` into batches of at most ``max_count`` images, within ``budget``.

    Each image's cost is reserved before it is decoded and released once the caller
    asks for the next batch (the batch list is emptied then). A batch ends early when
    the budget cannot take the next image at once, so nothing is held while waiting (no
    two holders wait on each other).
    Items whose ``read`` or ``decode`` gives None are left out. ``BudgetExhausted``
    comes out when a reservation waits longer than ``timeout`` seconds (None: for ever).
    """
    batch: list[tuple[T, Image.Image]] = []
    held = 0
    try:
        for item in items:
            header = read(item)
            if header is None:
                continue
            if batch and (len(batch) >= max_count or not budget.try_acquire(header.cost)):
                yield batch
                batch.clear()  # the caller's reference to it no longer keeps the images
                budget.release(held)
                held = 0
            if not batch:
                budget.acquire(header.cost, timeout=timeout)
            held += header.cost
            image = decode(item, header)
            if image is None:
                budget.release(header.cost)
                held -= header.cost
                continue
            batch.append((item, image))
        if batch:
            yield batch
            batch.clear()
    finally:
        budget.release(held)
