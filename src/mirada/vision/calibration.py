"""Photos to calibrate the int8 backbone on: many views of a few real photos.

The default set is scikit-learn's two sample photos (a Chinese palace and a flower, 640 x
427), which every install has: 48 random square crops of each, from 40 % to all of the
short side, half of them mirrored. Crops at several scales show the calibrator the range
of activations that close-ups and wide scenes give; measured here, they calibrate as well
as twenty scikit-image photos do (the same top-1 agreement with fp32 on held-out photos,
within one view in 54), and they leave every scikit-image photo free to check the result.
Twice as many crops, or a third of them grey and a quarter shrunk to 40-112 pixels (as
scans and thumbnails are), changed nothing measurable on 693 held-out answers either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images

from mirada.vision.preprocess import INPUT_SIZE

VIEWS_PER_PHOTO = 48
CALIBRATION_SIZE = 96  # views of scikit-learn's photos; fewer photos of one's own are cropped
MAX_PHOTOS = 128  # of one's own: calibrating takes about a third of a second a photo
SMALLEST_CROP = 0.4  # of the short side
SEED = 0


def sample_photos() -> list[Image.Image]:
    """scikit-learn's sample photos, as RGB images."""
    return [Image.fromarray(pixels).convert("RGB") for pixels in load_sample_images().images]


def views(
    photos: Sequence[Image.Image], *, per_photo: int = VIEWS_PER_PHOTO, seed: int = SEED
) -> list[Image.Image]:
    """``per_photo`` random square crops of each photo, about half mirrored; deterministic."""
    rng = np.random.default_rng(seed)
    crops = []
    for photo in photos:
        width, height = photo.size
        for _ in range(per_photo):
            side = max(1, round(min(width, height) * rng.uniform(SMALLEST_CROP, 1.0)))
            left = int(rng.integers(0, width - side + 1))
            top = int(rng.integers(0, height - side + 1))
            crop = photo.crop((left, top, left + side, top + side))
            if rng.random() < 0.5:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            crops.append(crop)
    return crops


def default_calibration() -> list[Image.Image]:
    """The calibration set ``mirada model quantize`` uses unless given photos."""
    return views(sample_photos())


def shrunk(photo: Image.Image) -> Image.Image:
    """``photo`` reduced by an integer factor to a short side of at least 672 pixels (three
    times the model's input, as ``preprocess``'s own reducing gap), so that hundreds of
    photos fit in memory and preprocess to nearly the same pixels."""
    factor = min(photo.size) // (3 * INPUT_SIZE)
    return photo.reduce(factor) if factor >= 2 else photo


def calibration_set(photos: Sequence[Image.Image]) -> list[Image.Image]:
    """One's own photos to calibrate on: at most ``MAX_PHOTOS`` of them, spread over the
    list; under ``CALIBRATION_SIZE`` photos, that many random crops of them instead."""
    if len(photos) >= CALIBRATION_SIZE:
        step = max(1, -(-len(photos) // MAX_PHOTOS))
        return list(photos[::step])
    return views(photos, per_photo=-(-CALIBRATION_SIZE // max(1, len(photos))))
