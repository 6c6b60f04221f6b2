"""Custom classes: the backbone's pooled embeddings through a trained head."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mirada.vision.predictions import Prediction, top_k

if TYPE_CHECKING:  # onnxruntime and scikit-learn load with the objects, not with this module
    from mirada.vision.backbone import Backbone
    from mirada.vision.heads import Head


class HeadClassifier:
    """Ranks a project's classes: embeddings from the backbone, probabilities from the head.

    A ``Classifier`` for ``mirada.vision.pipeline.classify_stream``; a prediction's
    ``index`` is the class's position in the head's (the version's) class list.
    """

    def __init__(self, backbone: Backbone, head: Head) -> None:
        self.backbone = backbone
        self.head = head

    @property
    def class_names(self) -> tuple[str, ...]:
        """The classes the head tells apart, in the order of its outputs."""
        return self.head.class_names

    def predict(self, batch: np.ndarray, k: int) -> list[list[Prediction]]:
        """The ``k`` best classes (at most all of them) of each image in a preprocessed batch."""
        return rank_by_head(self.head, self.backbone.run(batch).embeddings, k)


def rank_by_head(head: Head, embeddings: np.ndarray, k: int) -> list[list[Prediction]]:
    """The ``k`` most probable of the head's classes (at most all) for each embedding."""
    k = min(k, len(head.class_names))
    return [top_k(row, k, labels=head.class_names) for row in head.logits(embeddings)]
