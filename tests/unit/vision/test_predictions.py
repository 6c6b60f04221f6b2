"""Ranking logits, and the ImageNet classifier on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.vision.backbone import Backbone
from mirada.vision.intake import open_image
from mirada.vision.labels import imagenet_labels
from mirada.vision.predictions import ImageNetClassifier, Prediction, checked_prediction, top_k

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def test_top_k_is_sorted_and_labelled() -> None:
    logits = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    predictions = top_k(logits, k=5)
    assert [p.index for p in predictions] == list(np.argsort(-logits)[:5])
    assert [p.label for p in predictions] == [imagenet_labels()[p.index] for p in predictions]
    scores = [p.score for p in predictions]
    assert scores == sorted(scores, reverse=True)
    assert 0 < sum(scores) <= 1


def test_softmax_is_numerically_stable() -> None:
    logits = np.zeros(1000, dtype=np.float32)
    logits[[3, 7]] = [10_000.0, 9_999.0]
    predictions = top_k(logits, k=1000)
    assert all(np.isfinite(p.score) for p in predictions)
    assert sum(p.score for p in predictions) == pytest.approx(1.0)
    assert predictions[0] == Prediction(3, imagenet_labels()[3], pytest.approx(1 / (1 + np.e**-1)))


def test_custom_labels() -> None:
    predictions = top_k(np.array([0.0, 2.0, 1.0]), k=2, labels=["a", "b", "c"])
    assert [p.label for p in predictions] == ["b", "c"]


@pytest.mark.parametrize("k", [0, 1001])
def test_k_out_of_range(k: int) -> None:
    with pytest.raises(ValueError, match="k must be"):
        top_k(np.zeros(1000), k=k)


def test_wrong_number_of_logits() -> None:
    with pytest.raises(ValueError, match="expected 1000 logits"):
        top_k(np.zeros(10))


@pytest.fixture(scope="module")
def classifier(model_path: Path) -> ImageNetClassifier:
    return ImageNetClassifier(Backbone(model_path, threads=1), batch_size=2)


def test_chelsea_is_a_cat(classifier: ImageNetClassifier, cat_jpeg: bytes) -> None:
    [predictions] = classifier.classify([open_image(cat_jpeg, **LIMITS)])
    assert any("cat" in p.label for p in predictions), predictions


def test_coffee_is_espresso(classifier: ImageNetClassifier, coffee_jpeg: bytes) -> None:
    [predictions] = classifier.classify([open_image(coffee_jpeg, **LIMITS)], k=1)
    assert predictions[0].label == "espresso"


def test_classify_batches_in_order(classifier: ImageNetClassifier) -> None:
    photos = [data.coffee(), data.chelsea(), data.astronaut()]
    images = [Image.fromarray(photo) for photo in photos]
    together = classifier.classify(images, k=3)  # two batches of at most two
    one_by_one = [classifier.classify([image], k=3)[0] for image in images]
    assert [[p.index for p in ps] for ps in together] == [
        [p.index for p in ps] for ps in one_by_one
    ]
    for batched, single in zip(together, one_by_one, strict=True):
        for a, b in zip(batched, single, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-5)


def test_a_prediction_read_back_from_json_is_checked() -> None:
    good = {"index": 281, "label": "tabby", "score": 0.5}
    assert checked_prediction(good, classes=1000) == Prediction(281, "tabby", 0.5)
    for bad in (
        [281, "tabby", 0.5],
        {**good, "index": 1000},
        {**good, "index": -1},
        {**good, "index": "281"},
        {**good, "label": None},
        {**good, "score": float("nan")},
        {**good, "score": 1.5},
        {**good, "score": "0.5"},
    ):
        with pytest.raises(ValueError):
            checked_prediction(bad, classes=1000)
