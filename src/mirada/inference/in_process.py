"""Inference inside the calling process, with the ONNX backbone loaded on first use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from mirada.inference.base import EMBEDDING_SIZE, InferenceUnavailable, ModelInfo
from mirada.vision.fingerprint import model_fingerprint
from mirada.vision.predictions import ImageNetClassifier, Prediction
from mirada.vision.preprocess import preprocess_batch

log = logging.getLogger(__name__)

MODEL_NAME = "imagenet/efficientnet-lite0"
EMBED_BATCH = 32


class InProcessInference:
    """One shared classifier per process; onnxruntime sessions are safe to call from threads."""

    def __init__(self, *, model_path: Path, threads: int = 0) -> None:
        self.model_path = model_path
        self.threads = threads
        self._classifier: ImageNetClassifier | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> ImageNetClassifier:
        if self._classifier is None:
            with self._lock:
                if self._classifier is None:
                    from mirada.vision.backbone import Backbone, ModelNotFound

                    try:
                        backbone = Backbone(self.model_path, threads=self.threads)
                    except ModelNotFound as exc:
                        raise InferenceUnavailable(str(exc)) from exc
                    except Exception as exc:  # a truncated or corrupt file, or not a model at all
                        log.exception("The model at %s cannot be loaded", self.model_path)
                        raise InferenceUnavailable(f"{self.model_path} cannot be loaded") from exc
                    self._classifier = ImageNetClassifier(backbone)
        return self._classifier

    @cached_property
    def model(self) -> ModelInfo:
        """The model's name and a short fingerprint of the file, as its version."""
        self._loaded()
        return ModelInfo(name=MODEL_NAME, version=model_fingerprint(self.model_path))

    def classify(
        self, images: Sequence[Image.Image], *, k: int = 5, version: str | None = None
    ) -> list[list[Prediction]]:
        self._check(version)
        return self._loaded().classify(list(images), k=k)

    def embed(self, images: Sequence[Image.Image], *, version: str | None = None) -> np.ndarray:
        self._check(version)
        backbone = self._loaded().backbone
        batches = [
            backbone.run(preprocess_batch(images[start : start + EMBED_BATCH])).embeddings
            for start in range(0, len(images), EMBED_BATCH)
        ]
        return np.concatenate(batches) if batches else np.zeros((0, EMBEDDING_SIZE), np.float32)

    def _check(self, version: str | None) -> None:
        """Refuse a call for another model than the one this process loaded."""
        if version is not None and version != self.model.version:
            raise InferenceUnavailable(
                f"this process runs model {self.model.version}, not {version}"
            )
