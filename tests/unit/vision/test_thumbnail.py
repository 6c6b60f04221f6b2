"""Thumbnails."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.services.images import content_type_of
from mirada.vision.thumbnail import make_thumbnail


def test_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    thumbnail = make_thumbnail(Image.fromarray(data.chelsea()).resize((4000, 3000)))
    assert thumbnail[:3] == b"\xff\xd8\xff"
    image = Image.open(io.BytesIO(thumbnail))
    assert (image.format, image.size) == ("JPEG", (256, 192))


def test_small_images_are_not_enlarged() -> None:
    image = Image.open(io.BytesIO(make_thumbnail(Image.fromarray(data.coffee()), size=1000)))
    assert image.size == (600, 400)


@pytest.mark.parametrize("photo", [data.astronaut(), data.chelsea(), data.coffee()])
def test_as_close_to_the_photo_as_the_webp_thumbnails_were(photo: np.ndarray) -> None:
    """Against a Lanczos reduction of the photo, the JPEG errs no more than the WebP
    (Lanczos, quality 80, method 4) that thumbnails used to be."""
    image = Image.fromarray(photo)
    thumbnail = Image.open(io.BytesIO(make_thumbnail(image)))
    reference = image.resize(thumbnail.size, Image.Resampling.LANCZOS)
    webp = io.BytesIO()
    reference.save(webp, "WEBP", quality=80, method=4)

    def error(candidate: Image.Image) -> float:
        difference = np.asarray(candidate, np.float32) - np.asarray(reference, np.float32)
        return float(np.abs(difference).mean())

    assert error(thumbnail) <= error(Image.open(webp).convert("RGB"))


def test_grey_and_transparent_images_make_thumbnails() -> None:
    grey = Image.fromarray(data.camera())
    assert Image.open(io.BytesIO(make_thumbnail(grey))).mode == "L"
    clear = Image.new("RGBA", (300, 200), (10, 200, 30, 0))
    assert Image.open(io.BytesIO(make_thumbnail(clear))).size == (256, 171)


def test_the_media_type_comes_from_the_bytes() -> None:
    jpeg = make_thumbnail(Image.fromarray(data.chelsea()))
    webp = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(webp, "WEBP")
    assert content_type_of(jpeg) == "image/jpeg"
    assert content_type_of(webp.getvalue()) == "image/webp"
