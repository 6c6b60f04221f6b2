"""The confusion matrix picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mirada.vision.confusion_plot import BLUE, WHITE, confusion_matrix_png


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def test_two_classes() -> None:
    image = open_png(confusion_matrix_png([[9, 1], [0, 10]], ["cat", "dog"]))
    assert 200 <= image.width <= 500 and 200 <= image.height <= 500


def test_twelve_classes_with_long_names() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 20, (12, 12)) + np.eye(12, dtype=int) * 150
    names = [f"a rather long class name number {i}" for i in range(12)]
    image = open_png(confusion_matrix_png(matrix.tolist(), names))
    assert 500 <= image.width <= 1100 and 500 <= image.height <= 1100


def test_thirty_classes_stay_a_sensible_size() -> None:
    matrix = (np.eye(30, dtype=int) * 1000).tolist()
    image = open_png(confusion_matrix_png(matrix, [f"class {i}" for i in range(30)]))
    assert image.width <= 1300 and image.height <= 1300


def test_cells_are_shaded_by_their_share_of_the_row() -> None:
    # Row 0 is all on the diagonal, row 1 all off it: both darkest cells are pure blue.
    image = open_png(confusion_matrix_png([[5, 0], [7, 0]], ["a", "b"]))
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 16)}
    assert BLUE in colours and WHITE in colours


def test_titles_are_translatable() -> None:
    default = confusion_matrix_png([[1, 0], [0, 1]], ["a", "b"])
    german = confusion_matrix_png(
        [[1, 0], [0, 1]], ["a", "b"], true_label="Wahr", predicted_label="Vorhergesagt"
    )
    assert german != default


def test_refuses_a_matrix_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="2 x 2"):
        confusion_matrix_png([[1, 2, 3]], ["a", "b"])
