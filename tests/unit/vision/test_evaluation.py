"""Honest evaluation on unseen examples, and the rules that decide whether training may start."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mirada.vision.evaluation import (
    Evaluation,
    Issue,
    Mistake,
    check_trainable,
    evaluate,
)
from tests.unit.vision.conftest import Digits


def subset(digits: Digits, per_class: int, classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The first ``per_class`` examples of the first ``classes`` digits."""
    positions = np.concatenate(
        [np.flatnonzero(digits.labels == c)[:per_class] for c in range(classes)]
    )
    return digits.embeddings[positions], digits.labels[positions]


def assert_consistent(evaluation: Evaluation, labels: np.ndarray) -> None:
    """Accuracy, confusion matrix, per-class support and mistakes all tell the same story."""
    matrix = np.array(evaluation.confusion)
    assert matrix.sum() == evaluation.evaluated_count
    wrong = len(evaluation.mistakes)
    assert evaluation.accuracy == pytest.approx(1 - wrong / evaluation.evaluated_count)
    assert np.trace(matrix) == evaluation.evaluated_count - wrong
    assert [c.support for c in evaluation.classes] == matrix.sum(axis=1).tolist()
    for mistake in evaluation.mistakes:
        assert labels[mistake.index] == mistake.true != mistake.predicted
    confidences = [m.confidence for m in evaluation.mistakes]
    assert confidences == sorted(confidences, reverse=True)
    f1 = [c.f1 for c in evaluation.classes]
    assert evaluation.macro_f1 == pytest.approx(np.mean(f1))


def test_holdout_when_every_class_has_25_examples(digits: Digits) -> None:
    embeddings, labels = subset(digits, 30)
    seen: list[float] = []
    evaluation = evaluate(embeddings, labels, digits.class_names, progress=seen.append)
    assert (evaluation.method, evaluation.folds) == ("holdout", 1)
    assert evaluation.evaluated_count == 60  # 20% of 300, 6 per class
    assert [c.support for c in evaluation.classes] == [6] * 10
    assert evaluation.accuracy >= 0.8, evaluation.accuracy
    assert seen == [1.0]
    assert_consistent(evaluation, labels)


def test_kfold_scores_every_example_out_of_fold(digits: Digits) -> None:
    embeddings, labels = subset(digits, 12, classes=5)
    seen: list[float] = []
    evaluation = evaluate(embeddings, labels, digits.class_names[:5], progress=seen.append)
    assert (evaluation.method, evaluation.folds) == ("kfold", 5)
    assert evaluation.evaluated_count == 60
    assert seen == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert evaluation.accuracy >= 0.8, evaluation.accuracy
    assert_consistent(evaluation, labels)


def test_kfold_uses_as_many_folds_as_the_smallest_class(digits: Digits) -> None:
    embeddings, labels = subset(digits, 3, classes=4)
    evaluation = evaluate(embeddings, labels, digits.class_names[:4])
    assert (evaluation.method, evaluation.folds, evaluation.evaluated_count) == ("kfold", 3, 12)
    assert_consistent(evaluation, labels)


def test_mistakes_point_at_the_input_positions(digits: Digits) -> None:
    # Hard pairs with few examples, so that there are mistakes to look at.
    positions = np.concatenate([np.flatnonzero(digits.labels == c)[:6] for c in (1, 7, 8, 9)])
    labels = np.searchsorted([1, 7, 8, 9], digits.labels[positions])
    evaluation = evaluate(digits.embeddings[positions], labels, ("1", "7", "8", "9"))
    assert evaluation.mistakes, "expected at least one mistake"
    assert_consistent(evaluation, labels)


def test_same_seed_same_evaluation(digits: Digits) -> None:
    embeddings, labels = subset(digits, 10, classes=3)
    first = evaluate(embeddings, labels, digits.class_names[:3], seed=4)
    assert evaluate(embeddings, labels, digits.class_names[:3], seed=4) == first


def test_json_round_trip(digits: Digits) -> None:
    embeddings, labels = subset(digits, 6, classes=4)
    evaluation = evaluate(embeddings, labels, digits.class_names[:4])
    restored = Evaluation.from_dict(json.loads(json.dumps(evaluation.to_dict())))
    assert restored == evaluation
    assert all(isinstance(m, Mistake) for m in restored.mistakes)


def test_a_class_with_one_example_cannot_be_evaluated(digits: Digits) -> None:
    with pytest.raises(ValueError, match="two examples"):
        evaluate(digits.embeddings[:3], np.array([0, 0, 1]), ("a", "b"))


def test_fewer_than_two_classes_blocks() -> None:
    check = check_trainable({"cats": 40})
    assert not check.ok
    assert check.errors == [Issue("too_few_classes", {"count": 1, "minimum": 2})]


def test_an_empty_class_blocks() -> None:
    check = check_trainable({"cats": 40, "dogs": 0})
    assert check.errors == [Issue("too_few_examples", {"classes": ["dogs"], "minimum": 5})]


def test_four_examples_block() -> None:
    check = check_trainable({"cats": 4, "dogs": 4, "birds": 5})
    assert check.errors == [Issue("too_few_examples", {"classes": ["cats", "dogs"], "minimum": 5})]
    assert not check.ok


def test_nineteen_examples_warn() -> None:
    check = check_trainable({"cats": 19, "dogs": 20})
    assert check.ok
    assert check.warnings == [Issue("few_examples", {"classes": ["cats"], "recommended": 20})]


def test_one_to_four_imbalance_warns() -> None:
    check = check_trainable({"cats": 80, "dogs": 20, "birds": 30})
    assert check.ok
    assert check.warnings == [
        Issue("imbalanced", {"largest": "cats", "smallest": "dogs", "ratio": 4.0})
    ]


def test_one_to_three_is_not_imbalanced() -> None:
    assert check_trainable({"cats": 60, "dogs": 20}).warnings == []


def test_all_good() -> None:
    check = check_trainable({"cats": 25, "dogs": 30, "birds": 40})
    assert check.ok
    assert (check.errors, check.warnings) == ([], [])
