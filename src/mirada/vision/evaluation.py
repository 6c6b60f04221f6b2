"""Whether a set of examples can train a head, and how well a head does on unseen examples.

Every evaluated example is one the head being scored did not train on: one stratified
hold-out split when every class has enough examples, out-of-fold predictions of a
stratified k-fold otherwise. Issues carry codes and parameters, not sentences: the web
layer words them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from mirada.vision.heads import train_head

MIN_EXAMPLES = 5
RECOMMENDED_EXAMPLES = 20
MAX_IMBALANCE = 3.0
HOLDOUT_MIN_EXAMPLES = 25
HOLDOUT_FRACTION = 0.2
MAX_FOLDS = 5


@dataclass(frozen=True)
class Issue:
    """A problem with the examples: a stable ``code`` and what a message needs to say it."""

    code: str
    params: dict[str, Any]


@dataclass(frozen=True)
class TrainingCheck:
    """``errors`` block training; ``warnings`` only predict a weaker head."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether training may go ahead."""
        return not self.errors


def check_trainable(class_counts: dict[str, int]) -> TrainingCheck:
    """Apply the training rules to the number of examples of each class."""
    check = TrainingCheck()
    if len(class_counts) < 2:
        check.errors.append(Issue("too_few_classes", {"count": len(class_counts), "minimum": 2}))
    too_few = [name for name, count in class_counts.items() if count < MIN_EXAMPLES]
    if too_few:
        check.errors.append(
            Issue("too_few_examples", {"classes": too_few, "minimum": MIN_EXAMPLES})
        )
    few = [
        name for name, count in class_counts.items() if MIN_EXAMPLES <= count < RECOMMENDED_EXAMPLES
    ]
    if few:
        check.warnings.append(
            Issue("few_examples", {"classes": few, "recommended": RECOMMENDED_EXAMPLES})
        )
    if len(class_counts) >= 2:
        largest = max(class_counts, key=lambda name: class_counts[name])
        smallest = min(class_counts, key=lambda name: class_counts[name])
        if class_counts[smallest] > 0:
            ratio = class_counts[largest] / class_counts[smallest]
            if ratio > MAX_IMBALANCE:
                params = {"largest": largest, "smallest": smallest, "ratio": round(ratio, 2)}
                check.warnings.append(Issue("imbalanced", params))
    return check


@dataclass(frozen=True)
class Mistake:
    """A misclassified example: its position in the input, true and predicted class indices."""

    index: int
    true: int
    predicted: int
    confidence: float


@dataclass(frozen=True)
class ClassMetrics:
    """Precision, recall and F1 of one class over the evaluated examples of ``support`` size."""

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """Scores on examples the scored head did not train on.

    ``method`` is ``"holdout"`` (``folds`` is 1) or ``"kfold"``; ``confusion[t][p]`` counts
    examples of class ``t`` predicted as ``p``; ``mistakes`` go from most to least confident;
    ``evaluated`` holds the input positions of the scored examples, in order.
    """

    method: str
    folds: int
    evaluated_count: int
    accuracy: float
    macro_f1: float
    classes: list[ClassMetrics]
    confusion: list[list[int]]
    mistakes: list[Mistake]
    evaluated: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form."""
        return {
            "method": self.method,
            "folds": self.folds,
            "evaluated_count": self.evaluated_count,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "classes": [asdict(metrics) for metrics in self.classes],
            "confusion": self.confusion,
            "mistakes": [asdict(mistake) for mistake in self.mistakes],
            "evaluated": list(self.evaluated),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """The inverse of ``to_dict``."""
        return cls(
            method=data["method"],
            folds=data["folds"],
            evaluated_count=data["evaluated_count"],
            accuracy=data["accuracy"],
            macro_f1=data["macro_f1"],
            classes=[ClassMetrics(**metrics) for metrics in data["classes"]],
            confusion=[list(row) for row in data["confusion"]],
            mistakes=[Mistake(**mistake) for mistake in data["mistakes"]],
            evaluated=[int(i) for i in data.get("evaluated", [])],
        )


def evaluate(
    embeddings: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> Evaluation:
    """Train heads on part of the examples and score them on the rest.

    A stratified 20% hold-out when the smallest class has at least 25 examples, else
    stratified k-fold (k = min(5, smallest class)) scoring every example out of fold.
    ``progress`` receives the fraction done after each head is trained.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    y = np.asarray(labels)
    smallest = int(np.bincount(y, minlength=len(class_names)).min())
    if smallest < 2:
        raise ValueError("every class needs at least two examples to be evaluated")
    positions = np.arange(len(y))
    if smallest >= HOLDOUT_MIN_EXAMPLES:
        method = "holdout"
        train, test = train_test_split(
            positions, test_size=HOLDOUT_FRACTION, stratify=y, random_state=seed
        )
        splits = [(train, np.sort(test))]
    else:
        method = "kfold"
        folds = StratifiedKFold(n_splits=min(MAX_FOLDS, smallest), shuffle=True, random_state=seed)
        splits = list(folds.split(x, y))
    evaluated = np.sort(np.concatenate([test for _, test in splits]))
    probabilities = np.zeros((len(y), len(class_names)), dtype=np.float32)
    for done, (train, test) in enumerate(splits, start=1):
        head = train_head(x[train], y[train], class_names, seed=seed)
        probabilities[test] = head.probabilities(x[test])
        if progress is not None:
            progress(done / len(splits))
    return _score(method, len(splits), evaluated, y, probabilities, class_names)


def _score(
    method: str,
    folds: int,
    evaluated: np.ndarray,
    y: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
) -> Evaluation:
    """Metrics of the predictions for the ``evaluated`` positions."""
    classes = np.arange(len(class_names))
    truth = y[evaluated]
    predicted = probabilities[evaluated].argmax(axis=1)
    confidence = probabilities[evaluated, predicted]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    wrong = np.flatnonzero(truth != predicted)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
    return Evaluation(
        method=method,
        folds=folds,
        evaluated_count=len(evaluated),
        accuracy=float(np.mean(truth == predicted)),
        macro_f1=float(np.mean(f1)),
        classes=[
            ClassMetrics(name, float(p), float(r), float(f), int(s))
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support, strict=True)
        ],
        confusion=confusion_matrix(truth, predicted, labels=classes).tolist(),
        mistakes=[
            Mistake(int(evaluated[i]), int(truth[i]), int(predicted[i]), float(confidence[i]))
            for i in wrong
        ],
        evaluated=[int(i) for i in evaluated],
    )
