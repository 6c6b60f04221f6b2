"""The contract every inference adapter keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image

from mirada.vision.predictions import Prediction

EMBEDDING_SIZE = 1280  # floats in the backbone's pooled embedding of one image


class InferenceUnavailable(RuntimeError):
    """The model cannot answer now (not installed, or its service is down)."""


@dataclass(frozen=True)
class ModelInfo:
    """Which model answered, as shown in the history."""

    name: str
    version: str


class Inference(Protocol):
    """Classifies decoded images into the ImageNet classes."""

    @property
    def model(self) -> ModelInfo: ...

    def classify(
        self, images: Sequence[Image.Image], *, k: int = 5, version: str | None = None
    ) -> list[list[Prediction]]:
        """The top ``k`` predictions for each image, most likely first; given ``version``,
        by that model only (``InferenceUnavailable`` when none runs it)."""
        ...

    def embed(self, images: Sequence[Image.Image], *, version: str | None = None) -> np.ndarray:
        """The backbone's pooled embedding of each image, ``[N, 1280]`` float32; given
        ``version``, made by that model only (``InferenceUnavailable`` when none runs it)."""
        ...
