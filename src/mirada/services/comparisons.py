"""Two versions scored on the same examples, so that their accuracies can be compared.

The examples are those the newer version was evaluated on (each scored by a head that
did not train on it) and that the older version never trained on: neither version has
seen them. The newer version's answers are its evaluation's; the older head is run on
the stored embeddings (heads are tiny, so this costs milliseconds). An example of a
class the older version does not know counts as wrong for it: it cannot answer it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from mirada.db import Example, ModelVersion
from mirada.services.heads import load_head
from mirada.storage import BlobStore
from mirada.vision.heads import EMBEDDING_DTYPE

QUERY_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class SameExamples:
    """How two versions did on ``count`` examples neither trained on."""

    older: int
    newer: int
    count: int
    older_correct: int
    newer_correct: int
    unknown_to_older: int  # examples of classes the older version does not have

    @property
    def older_accuracy(self) -> float | None:
        """The older version's accuracy on these examples (None without examples)."""
        return self.older_correct / self.count if self.count else None

    @property
    def newer_accuracy(self) -> float | None:
        """The newer version's accuracy on these examples (None without examples)."""
        return self.newer_correct / self.count if self.count else None

    @property
    def newer_is_worse(self) -> bool:
        """Whether the newer version got fewer of them right."""
        return self.newer_correct < self.older_correct

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (``from_dict`` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SameExamples:
        """The inverse of ``to_dict``."""
        return cls(**{name: int(data[name]) for name in cls.__dataclass_fields__})


def evaluation_record(
    example_ids: list[int], labels: np.ndarray, evaluated: list[int]
) -> dict[str, Any]:
    """What a version keeps so it can be compared later (merged into its metrics)."""
    return {
        "trained_example_ids": list(example_ids),
        "evaluated_example_ids": [example_ids[i] for i in evaluated],
        "evaluated_labels": [int(labels[i]) for i in evaluated],
    }


def _embeddings(
    session: Session, project_id: int, ids: list[int], backbone: str
) -> dict[int, np.ndarray]:
    """The embeddings ``backbone`` made of the examples ``ids`` (those it made)."""
    found: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), QUERY_CHUNK):
        rows = session.execute(
            select(Example.id, Example.embedding).where(
                Example.project_id == project_id,
                Example.id.in_(ids[start : start + QUERY_CHUNK]),
                Example.embedding_backbone == backbone,
            )
        ).all()
        found.update({row.id: np.frombuffer(row.embedding, dtype=EMBEDDING_DTYPE) for row in rows})
    return found


def same_examples(
    *, session: Session, older: ModelVersion, newer: ModelVersion, blobs: BlobStore
) -> SameExamples | None:
    """Both versions scored on the examples neither trained on (see the module's notes).

    None when a version predates the records this needs, or when the two were trained on
    different backbones (one head cannot read the other's embeddings). Examples deleted or
    embedded again since the newer version was trained are left out.
    """
    if older.backbone_version != newer.backbone_version:
        return None
    old, new = older.metrics or {}, newer.metrics or {}
    trained = old.get("trained_example_ids")
    evaluated = new.get("evaluated_example_ids")
    labels = new.get("evaluated_labels")
    if not (isinstance(trained, list) and isinstance(evaluated, list)):
        return None
    if not isinstance(labels, list) or len(labels) != len(evaluated):
        return None
    seen = set(trained)
    truth = {i: newer.class_names[label] for i, label in zip(evaluated, labels, strict=True)}
    unseen = [i for i in evaluated if i not in seen]
    vectors = _embeddings(session, newer.project_id, unseen, newer.backbone_version)
    ids = sorted(vectors)
    newer_wrong = set(new.get("mistake_example_ids", []))
    older_correct = 0
    if ids:
        head = load_head(version=older, blobs=blobs)
        predicted = head.probabilities(np.stack([vectors[i] for i in ids])).argmax(axis=1)
        older_correct = sum(
            older.class_names[int(p)] == truth[i] for i, p in zip(ids, predicted, strict=True)
        )
    return SameExamples(
        older=older.number,
        newer=newer.number,
        count=len(ids),
        older_correct=int(older_correct),
        newer_correct=sum(i not in newer_wrong for i in ids),
        unknown_to_older=sum(truth[i] not in older.class_names for i in ids),
    )
