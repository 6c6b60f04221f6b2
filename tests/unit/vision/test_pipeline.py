"""The decode-ahead pipeline: order, batching and refusals."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.vision.backbone import Backbone
from mirada.vision.intake import ImageRejected, open_image
from mirada.vision.pipeline import classify_stream
from mirada.vision.predictions import ImageNetClassifier
from mirada.vision.preprocess import preprocess

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def prepare(source: bytes) -> np.ndarray:
    if source == b"unreadable":
        raise PermissionError("no access")
    return preprocess(open_image(source, **LIMITS))


@pytest.fixture(scope="module")
def classifier(model_path: Path) -> ImageNetClassifier:
    return ImageNetClassifier(Backbone(model_path))


@pytest.mark.parametrize(("batch_size", "workers"), [(1, 1), (2, 2), (16, 3)])
def test_outcomes_come_in_order(
    classifier: ImageNetClassifier, batch_size: int, workers: int
) -> None:
    cat, coffee = png(data.chelsea()), png(data.coffee())
    sources = [coffee, b"not an image", cat, b"unreadable", coffee, cat, cat]
    outcomes = list(
        classify_stream(
            sources,
            prepare=prepare,
            classifier=classifier,
            k=3,
            batch_size=batch_size,
            workers=workers,
        )
    )
    assert [o.source for o in outcomes] == sources
    assert isinstance(outcomes[1].error, ImageRejected)
    assert outcomes[1].error.code == "unsupported_format"
    assert isinstance(outcomes[3].error, PermissionError)
    expected = {
        cat: classifier.classify([open_image(cat, **LIMITS)], k=3)[0],
        coffee: classifier.classify([open_image(coffee, **LIMITS)], k=3)[0],
    }
    for outcome in outcomes:
        if outcome.error is None:
            assert outcome.predictions is not None
            assert [p.index for p in outcome.predictions] == [
                p.index for p in expected[outcome.source]
            ]


def test_nothing_to_do(classifier: ImageNetClassifier) -> None:
    assert list(classify_stream([], prepare=prepare, classifier=classifier)) == []


def test_only_refusals(classifier: ImageNetClassifier) -> None:
    outcomes = list(classify_stream([b"", b"x"], prepare=prepare, classifier=classifier))
    assert [o.error.code for o in outcomes if isinstance(o.error, ImageRejected)] == [
        "empty",
        "unsupported_format",
    ]


def test_other_errors_are_not_swallowed(classifier: ImageNetClassifier) -> None:
    def broken(source: bytes) -> np.ndarray:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        list(classify_stream([b"x"], prepare=broken, classifier=classifier))
