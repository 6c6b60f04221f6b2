"""A custom-class head: standardisation and a linear softmax layer over backbone embeddings.

``logits = ((x - mean) / scale) @ weights.T + bias`` in float32, exactly what the merged
ONNX model (``mirada.vision.merge``) computes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

EMBEDDING_SIZE = 1280
EMBEDDING_DTYPE = np.float32  # how embeddings are computed and stored
FORMAT_VERSION = 1
REGULARISATION_C = 1.0
MAX_ITER = 1000


@dataclass(frozen=True, eq=False)
class Head:
    """A trained head: ``weights [C, 1280]``, ``bias [C]``, ``mean``/``scale [1280]``, float32."""

    weights: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        count = len(self.class_names)
        expected = {
            "weights": (count, EMBEDDING_SIZE),
            "bias": (count,),
            "mean": (EMBEDDING_SIZE,),
            "scale": (EMBEDDING_SIZE,),
        }
        for name, shape in expected.items():
            array = getattr(self, name)
            if array.shape != shape or array.dtype != np.float32:
                raise ValueError(
                    f"{name}: expected float32 {shape}, got {array.dtype} {array.shape}"
                )

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        """Raw class scores ``[N, C]`` of ``[N, 1280]`` embeddings."""
        standardised = (np.asarray(embeddings, dtype=np.float32) - self.mean) / self.scale
        logits: np.ndarray = standardised @ self.weights.T + self.bias
        return logits

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``[N, C]`` (float32) of ``[N, 1280]`` embeddings."""
        logits = self.logits(embeddings)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def to_bytes(self) -> bytes:
        """The head as an ``.npz`` file (no pickled objects)."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            format_version=np.int64(FORMAT_VERSION),
            weights=self.weights,
            bias=self.bias,
            mean=self.mean,
            scale=self.scale,
            class_names=np.array(self.class_names, dtype=np.str_),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Head:
        """Read a head written by ``to_bytes``."""
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            version = int(npz["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(f"unsupported head format version {version}")
            return cls(
                weights=npz["weights"],
                bias=npz["bias"],
                mean=npz["mean"],
                scale=npz["scale"],
                class_names=tuple(str(name) for name in npz["class_names"]),
            )


def train_head(
    embeddings: np.ndarray, labels: np.ndarray, class_names: Sequence[str], *, seed: int = 0
) -> Head:
    """Fit a multinomial logistic regression on standardised embeddings, classes balanced.

    ``labels`` are indices into ``class_names``; every class needs at least one example.
    Deterministic for a given input and ``seed``.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    y = np.asarray(labels)
    count = len(class_names)
    if x.ndim != 2 or x.shape[1] != EMBEDDING_SIZE or len(x) != len(y):
        raise ValueError(f"expected [N, {EMBEDDING_SIZE}] embeddings and N labels")
    if count < 2 or len(set(class_names)) != count:
        raise ValueError("expected at least two distinct class names")
    if not np.array_equal(np.unique(y), np.arange(count)):
        raise ValueError("every class needs an example, and labels must index class_names")
    mean = x.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = x.std(axis=0, dtype=np.float64)
    scale = np.where(std > 1e-6, std, 1.0).astype(np.float32)
    model = LogisticRegression(
        C=REGULARISATION_C, class_weight="balanced", max_iter=MAX_ITER, random_state=seed
    )
    # The problem is small: BLAS and OpenMP threads cost far more than they save here
    # (20x slower on 2 cores with the default thread pools).
    with threadpool_limits(limits=1):
        model.fit((x - mean) / scale, y)
    weights, bias = model.coef_, model.intercept_
    if count == 2:  # one logistic unit: sigmoid(z) == softmax([-z/2, z/2])
        weights = np.concatenate([-weights, weights]) / 2
        bias = np.concatenate([-bias, bias]) / 2
    return Head(
        weights=np.ascontiguousarray(weights, dtype=np.float32),
        bias=np.ascontiguousarray(bias, dtype=np.float32),
        mean=mean,
        scale=scale,
        class_names=tuple(class_names),
    )
