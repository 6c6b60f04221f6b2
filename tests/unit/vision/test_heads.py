"""Training a head on real embeddings, its probabilities and its serialised form."""

from __future__ import annotations

import io

import numpy as np
import pytest

from mirada.vision.heads import Head, train_head
from tests.unit.vision.conftest import Digits


@pytest.fixture(scope="module")
def head(digits: Digits) -> Head:
    return train_head(
        digits.embeddings[digits.train], digits.labels[digits.train], digits.class_names
    )


def test_recognises_digits_it_never_saw(head: Head, digits: Digits) -> None:
    probabilities = head.probabilities(digits.embeddings[digits.test])
    accuracy = np.mean(probabilities.argmax(axis=1) == digits.labels[digits.test])
    assert accuracy >= 0.85, accuracy  # 0.867 with 30 examples per class


def test_probabilities_are_a_distribution(head: Head, digits: Digits) -> None:
    probabilities = head.probabilities(digits.embeddings[:7])
    assert probabilities.shape == (7, 10)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_softmax_is_stable_for_huge_logits(head: Head, digits: Digits) -> None:
    probabilities = head.probabilities(digits.embeddings[:3] * 1e4)
    assert np.isfinite(probabilities).all()


def test_logits_are_the_documented_formula(head: Head, digits: Digits) -> None:
    x = digits.embeddings[:5]
    expected = ((x - head.mean) / head.scale) @ head.weights.T + head.bias
    np.testing.assert_allclose(head.logits(x), expected, rtol=1e-6)


def test_same_seed_same_head(head: Head, digits: Digits) -> None:
    again = train_head(
        digits.embeddings[digits.train], digits.labels[digits.train], digits.class_names, seed=0
    )
    assert again.to_bytes() == head.to_bytes()


def test_round_trip(head: Head) -> None:
    loaded = Head.from_bytes(head.to_bytes())
    assert loaded.class_names == head.class_names
    for name in ("weights", "bias", "mean", "scale"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(head, name))


def test_round_trip_keeps_unicode_names(digits: Digits) -> None:
    names = ("chat tigré", "咖啡")
    two = np.isin(digits.labels, [0, 1])
    head = train_head(digits.embeddings[two], digits.labels[two], names)
    assert Head.from_bytes(head.to_bytes()).class_names == names


def test_two_classes_give_two_columns_matching_logistic_regression(digits: Digits) -> None:
    two = np.isin(digits.labels, [3, 8])
    labels = (digits.labels[two] == 8).astype(int)
    head = train_head(digits.embeddings[two], labels, ("three", "eight"))
    assert head.weights.shape == (2, 1280)
    probabilities = head.probabilities(digits.embeddings[two])
    assert np.mean(probabilities.argmax(axis=1) == labels) > 0.9


def test_every_class_needs_an_example(digits: Digits) -> None:
    with pytest.raises(ValueError, match="every class"):
        train_head(digits.embeddings[:10], np.array([0, 1] * 5), ("a", "b", "c"))


def test_class_names_must_differ(digits: Digits) -> None:
    with pytest.raises(ValueError, match="distinct"):
        train_head(digits.embeddings[:4], np.array([0, 1, 0, 1]), ("a", "a"))


def test_refuses_arrays_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="weights"):
        Head(
            weights=np.zeros((2, 10), np.float32),
            bias=np.zeros(2, np.float32),
            mean=np.zeros(1280, np.float32),
            scale=np.ones(1280, np.float32),
            class_names=("a", "b"),
        )


def test_refuses_another_format_version(head: Head) -> None:
    with np.load(io.BytesIO(head.to_bytes())) as npz:
        arrays = dict(npz)
    arrays["format_version"] = np.int64(99)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ValueError, match="version 99"):
        Head.from_bytes(buffer.getvalue())
