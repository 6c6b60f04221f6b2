"""From logits to ranked, labelled probabilities; the ImageNet classifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PIL import Image

from mirada.vision.labels import imagenet_labels
from mirada.vision.preprocess import preprocess_batch

if TYPE_CHECKING:  # onnxruntime loads only when a backbone is built
    from mirada.vision.backbone import Backbone


@dataclass(frozen=True)
class Prediction:
    """One class of one image: its index in the model's output, its name, its probability."""

    index: int
    label: str
    score: float


def checked_prediction(answer: object, *, classes: int) -> Prediction:
    """A prediction read back from JSON (``{"index", "label", "score"}``), checked: a class
    index below ``classes``, a label, a probability; ``ValueError`` for anything else."""
    if not isinstance(answer, dict):
        raise ValueError(f"not a prediction: {answer!r}")
    index, label, score = answer.get("index"), answer.get("label"), answer.get("score")
    if not (isinstance(index, int) and 0 <= index < classes and isinstance(label, str)):
        raise ValueError(f"not a class: {index!r} {label!r}")
    if not (isinstance(score, float) and 0.0 <= score <= 1.0):  # NaN fails too
        raise ValueError(f"not a probability: {score!r}")
    return Prediction(index, label, score)


def top_k(
    logits_row: np.ndarray, k: int = 5, *, labels: Sequence[str] | None = None
) -> list[Prediction]:
    """The ``k`` most probable classes of one logits row, most probable first.

    Probabilities are the softmax over the whole row; ``labels`` defaults to ImageNet's.
    """
    labels = imagenet_labels() if labels is None else labels
    logits = np.asarray(logits_row, dtype=np.float64)
    if logits.shape != (len(labels),):
        raise ValueError(f"expected {len(labels)} logits, got shape {logits.shape}")
    if not 1 <= k <= len(labels):
        raise ValueError(f"k must be between 1 and {len(labels)}, got {k}")
    exp = np.exp(logits - logits.max())
    probabilities = exp / exp.sum()
    best = np.argpartition(-probabilities, k - 1)[:k]
    best = best[np.argsort(-probabilities[best], kind="stable")]
    return [Prediction(int(i), labels[i], float(probabilities[i])) for i in best]


class Classifier(Protocol):
    """Anything that ranks classes for a preprocessed ``[N, 3, 224, 224]`` batch."""

    def predict(self, batch: np.ndarray, k: int) -> list[list[Prediction]]:
        """The ``k`` best predictions of each image in ``batch``."""
        ...


class ImageNetClassifier:
    """The backbone's own 1000 ImageNet classes."""

    def __init__(self, backbone: Backbone, *, batch_size: int = 16) -> None:
        self.backbone = backbone
        self.batch_size = batch_size
        self.labels = imagenet_labels()

    def predict(self, batch: np.ndarray, k: int = 5) -> list[list[Prediction]]:
        """The ``k`` best predictions of each image in a preprocessed batch."""
        logits = self.backbone.run(batch).logits
        return [top_k(row, k, labels=self.labels) for row in logits]

    def classify(self, images: Sequence[Image.Image], k: int = 5) -> list[list[Prediction]]:
        """The ``k`` best predictions of each RGB image, run ``batch_size`` at a time."""
        results: list[list[Prediction]] = []
        for start in range(0, len(images), self.batch_size):
            results += self.predict(preprocess_batch(images[start : start + self.batch_size]), k)
        return results
