"""``HeadClassifier``: a project's head over the backbone's embeddings, ranked."""

from __future__ import annotations

import numpy as np
import pytest

from mirada.vision.backbone import BackboneOutput
from mirada.vision.custom import HeadClassifier
from mirada.vision.heads import EMBEDDING_SIZE, train_head


class FakeBackbone:
    """Hands back the embeddings it was built with, whatever the batch."""

    def __init__(self, embeddings: np.ndarray) -> None:
        self.embeddings = embeddings

    def run(self, batch: np.ndarray) -> BackboneOutput:
        assert len(batch) == len(self.embeddings)
        return BackboneOutput(np.zeros((len(batch), 1000), np.float32), self.embeddings)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, EMBEDDING_SIZE)).astype(np.float32)
    labels = np.repeat(np.arange(3), 10)
    noise = rng.normal(scale=0.1, size=(30, EMBEDDING_SIZE))
    return (centres[labels] + noise).astype(np.float32), labels


def test_predictions_follow_the_head(data: tuple[np.ndarray, np.ndarray]) -> None:
    embeddings, labels = data
    head = train_head(embeddings, labels, ("cat", "dog", "owl"))
    probe = embeddings[[0, 15, 29]]
    classifier = HeadClassifier(FakeBackbone(probe), head)  # type: ignore[arg-type]

    ranked = classifier.predict(np.zeros((3, 3, 224, 224), np.float32), 2)

    expected = head.probabilities(probe)
    assert [row[0].label for row in ranked] == ["cat", "dog", "owl"]
    for row, probabilities in zip(ranked, expected, strict=True):
        assert len(row) == 2
        assert row[0].score >= row[1].score
        for prediction in row:
            assert head.class_names[prediction.index] == prediction.label
            assert prediction.score == pytest.approx(probabilities[prediction.index], rel=1e-5)


def test_k_is_capped_at_the_number_of_classes(data: tuple[np.ndarray, np.ndarray]) -> None:
    embeddings, labels = data
    head = train_head(embeddings, labels, ("cat", "dog", "owl"))
    classifier = HeadClassifier(FakeBackbone(embeddings[:1]), head)  # type: ignore[arg-type]

    [row] = classifier.predict(np.zeros((1, 3, 224, 224), np.float32), 5)

    assert sorted(p.label for p in row) == ["cat", "dog", "owl"]
    assert sum(p.score for p in row) == pytest.approx(1.0, abs=1e-5)
