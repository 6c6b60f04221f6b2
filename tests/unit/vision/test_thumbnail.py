"""Thumbnails."""

from __future__ import annotations

import io

from PIL import Image
from skimage import data

from mirada.vision.thumbnail import make_thumbnail


def test_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    thumbnail = make_thumbnail(Image.fromarray(data.chelsea()).resize((4000, 3000)))
    assert thumbnail[:4] == b"RIFF" and thumbnail[8:12] == b"WEBP"
    image = Image.open(io.BytesIO(thumbnail))
    assert image.size == (256, 192)


def test_small_images_are_not_enlarged() -> None:
    image = Image.open(io.BytesIO(make_thumbnail(Image.fromarray(data.coffee()), size=1000)))
    assert image.size == (600, 400)
