"""The image intake as services use it: refusals carry a code, a status and the limits
their words name; presenters/images.py words them (English here: no request)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mirada.config import Settings
from mirada.presenters.refusals import refusal_text
from mirada.services.errors import Busy
from mirada.services.images import (
    ImageRefused,
    busy,
    decode_upload,
    decoded_upload,
    read_upload,
    refused,
)
from mirada.vision.budget import DecodeBudget
from mirada.vision.intake import ImageRejected
from tests.support.images import encode, png_declaring


def limited(service_settings: Settings, **limits: int | float) -> Settings:
    return service_settings.model_copy(update=limits)


def jpeg(width: int, height: int) -> bytes:
    return encode(Image.new("RGB", (width, height), (120, 60, 30)))


def test_a_good_photo_is_read_and_decoded(service_settings: Settings, cat_jpeg: bytes) -> None:
    header = read_upload(cat_jpeg, settings=service_settings)
    image = decode_upload(header, settings=service_settings)
    assert image.mode == "RGB" and image.width > 0


def test_too_large_names_the_byte_limit(service_settings: Settings) -> None:
    settings = limited(service_settings, max_upload_bytes=2_500_000)
    with pytest.raises(ImageRefused) as refusal:
        read_upload(b"\xff\xd8\xff" + b"x" * 2_500_000, settings=settings)
    assert (refusal.value.code, refusal.value.status) == ("too_large", 413)
    assert refusal.value.params == {"max_bytes": 2_500_000}
    assert refusal_text(refusal.value) == "The file is larger than the limit of 2.5 MB."


def test_too_many_pixels_of_a_png_suggests_jpeg(service_settings: Settings) -> None:
    settings = limited(service_settings, max_image_pixels=1_000_000, max_jpeg_pixels=4_000_000)
    with pytest.raises(ImageRefused) as refusal:
        read_upload(png_declaring(2000, 2000), settings=settings)
    error = refusal.value
    assert (error.code, error.status) == ("too_many_pixels", 413)
    assert error.params == {"max_pixels": 1_000_000, "max_jpeg_pixels": 4_000_000, "jpeg": False}
    assert refusal_text(error) == (
        "The image has more pixels than the limit of 1 megapixels. Export it as JPEG "
        "(up to 4 megapixels) or scale it down to at most 1 megapixels."
    )


def test_too_many_pixels_of_a_jpeg_names_the_jpeg_limit(service_settings: Settings) -> None:
    settings = limited(service_settings, max_image_pixels=100_000, max_jpeg_pixels=1_500_000)
    with pytest.raises(ImageRefused) as refusal:
        read_upload(jpeg(2000, 1000), settings=settings)
    assert refusal.value.params["jpeg"] is True
    assert refusal_text(refusal.value) == (
        "The photo has more pixels than the limit of 1.5 megapixels for JPEG. "
        "Scale it down to at most 1.5 megapixels."
    )


@pytest.mark.parametrize(
    ("data", "code", "status", "words"),
    [
        (b"", "empty", 422, "The file is empty."),
        (
            b"%PDF-1.4 not an image",
            "unsupported_format",
            415,
            "This file type is not supported. Use a JPEG, PNG, WebP, GIF or BMP image.",
        ),
        (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
            "corrupt",
            422,
            "The image file is damaged and cannot be read.",
        ),
    ],
)
def test_other_refusals(
    service_settings: Settings, data: bytes, code: str, status: int, words: str
) -> None:
    with pytest.raises(ImageRefused) as refusal:
        read_upload(data, settings=service_settings)
    assert (refusal.value.code, refusal.value.status, refusal.value.params) == (code, status, {})
    assert refusal_text(refusal.value) == words


def test_a_truncated_photo_is_refused_when_decoded(
    service_settings: Settings, cat_jpeg: bytes
) -> None:
    header = read_upload(cat_jpeg[: len(cat_jpeg) // 2], settings=service_settings)
    with pytest.raises(ImageRefused) as refusal:
        decode_upload(header, settings=service_settings)
    assert refusal.value.code == "truncated"
    assert refusal_text(refusal.value) == (
        "The image file is incomplete (truncated). Upload it again."
    )


def test_an_unknown_intake_code_reads_as_damaged(service_settings: Settings) -> None:
    error = refused(ImageRejected("something_new", "?"), settings=service_settings)
    assert (error.code, error.status) == ("corrupt", 422)


def test_busy_asks_to_retry_after_the_decode_wait(service_settings: Settings) -> None:
    error = busy(settings=limited(service_settings, decode_wait_s=2.2))
    assert isinstance(error, Busy)
    assert (error.code, error.status, error.retry_after_s) == ("busy", 503, 3)
    assert refusal_text(error) == (
        "The server is busy reading other photos. Try again in a moment."
    )


def test_decoded_upload_holds_its_cost_for_the_block(
    service_settings: Settings, cat_jpeg: bytes
) -> None:
    budget = DecodeBudget(10**9)
    with decoded_upload(cat_jpeg, settings=service_settings, budget=budget) as image:
        assert budget.used > 0
        assert image.size == Image.open(io.BytesIO(cat_jpeg)).size
    assert budget.used == 0


def test_decoded_upload_without_room_is_busy(service_settings: Settings, cat_jpeg: bytes) -> None:
    budget = DecodeBudget(10**9)
    budget.acquire(budget.capacity, timeout=0)  # another request holds it all
    settings = limited(service_settings, decode_wait_s=0.01)
    with (
        pytest.raises(Busy),
        decoded_upload(cat_jpeg, settings=settings, budget=budget),
    ):
        pass  # pragma: no cover
    assert budget.used == budget.capacity  # nothing of the refused photo stays reserved
