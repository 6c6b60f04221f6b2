"""Preprocessing: the centre crop, the size and the normalisation the weights expect."""

from __future__ import annotations

import numpy as np
from PIL import Image
from skimage import data

from mirada.vision.preprocess import model_pixels, normalise, preprocess, preprocess_batch

RED_NORMALISED = [(255 - 127) / 128, (0 - 127) / 128, (0 - 127) / 128]


def test_shape_dtype_and_range() -> None:
    array = preprocess(Image.fromarray(data.astronaut()))
    assert array.shape == (3, 224, 224)
    assert array.dtype == np.float32
    assert array.flags.c_contiguous
    assert -127 / 128 <= array.min() < array.max() <= 1.0


def test_centre_crop_of_seven_eighths_of_the_short_side() -> None:
    # A 600 x 300 image: a red 300 x 300 centre between blue sides. The crop is the
    # centre 262.5 x 262.5 square, so nothing blue may reach the output.
    pixels = np.zeros((300, 600, 3), dtype=np.uint8)
    pixels[:, :, 2] = 255
    pixels[:, 150:450] = (255, 0, 0)
    array = preprocess(Image.fromarray(pixels))
    for channel, expected in enumerate(RED_NORMALISED):
        np.testing.assert_allclose(array[channel], expected, atol=1 / 128)


def test_the_crop_keeps_most_of_the_short_side() -> None:
    # A 256 x 256 image with a 16-pixel white border: the border is cropped away
    # (16 < 256/16), the grey inside fills the whole output.
    pixels = np.full((256, 256, 3), 255, dtype=np.uint8)
    pixels[16:-16, 16:-16] = 127
    array = preprocess(Image.fromarray(pixels))
    np.testing.assert_allclose(array, 0.0, atol=1 / 128)


def test_batch_matches_single_images() -> None:
    images = [Image.fromarray(data.chelsea()), Image.fromarray(data.coffee())]
    batch = preprocess_batch(images)
    assert batch.shape == (2, 3, 224, 224)
    for row, image in zip(batch, images, strict=True):
        np.testing.assert_array_equal(row, preprocess(image))


def _former_preprocess(img: Image.Image) -> np.ndarray:
    """The formula before the split into ``model_pixels`` and ``normalise``."""
    width, height = img.size
    crop = min(width, height) * 224 / 256
    left, top = (width - crop) / 2, (height - crop) / 2
    resized = img.resize(
        (224, 224),
        Image.Resampling.BICUBIC,
        box=(left, top, left + crop, top + crop),
        reducing_gap=3.0,
    )
    chw = np.asarray(resized).transpose(2, 0, 1).astype(np.float32, order="C")
    return (chw - 127.0) / 128.0


def test_the_split_gives_what_the_single_step_gave() -> None:
    cat = Image.fromarray(data.chelsea())
    pixels = model_pixels(cat)
    assert pixels.shape == (224, 224, 3)
    assert pixels.dtype == np.uint8
    np.testing.assert_allclose(preprocess(cat), _former_preprocess(cat), rtol=0, atol=1e-6)
    np.testing.assert_allclose(normalise(pixels[np.newaxis])[0], _former_preprocess(cat), atol=1e-6)


def test_normalise_is_nchw_float32_around_zero() -> None:
    pixels = np.zeros((2, 224, 224, 3), dtype=np.uint8)
    pixels[1, :, :, 0] = 255
    batch = normalise(pixels)
    assert batch.shape == (2, 3, 224, 224)
    assert batch.dtype == np.float32
    assert batch.flags.c_contiguous
    np.testing.assert_allclose(batch[0], -127 / 128)
    np.testing.assert_allclose(batch[1, 0], 1.0)
    np.testing.assert_allclose(batch[1, 1], -127 / 128)


def test_an_empty_batch() -> None:
    assert preprocess_batch([]).shape == (0, 3, 224, 224)
