"""The model behind the routes: loaded once per process, fed by the decoder and the batcher.

``ready`` is true once the model is loaded and until the process starts draining.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np

from mirada.inference.batcher import Batcher, BatchRows, DeadlineExceeded, QueueFull
from mirada.inference.cache import PredictionCache, cache_from
from mirada.inference.service.decoding import Decoder
from mirada.inference.service.errors import busy, deadline_exceeded, not_ready
from mirada.inference.service.metrics import ServiceMetrics
from mirada.inference.service.settings import ServiceSettings
from mirada.vision.backbone import Backbone
from mirada.vision.fingerprint import model_fingerprint, model_precision

log = logging.getLogger(__name__)

MODEL_NAME = "imagenet/efficientnet-lite0"


@dataclass(frozen=True)
class ModelCard:
    """Which model answers: its name, the file's fingerprint and its precision."""

    name: str
    version: str
    precision: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


class Engine:
    """Decoding, batching and the cache of one serving process."""

    def __init__(self, settings: ServiceSettings, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.cache: PredictionCache = cache_from(settings)
        self.decoder = Decoder(
            limits=settings, workers=settings.decode_workers, max_pending=settings.max_queue
        )
        self.card: ModelCard | None = None
        self.batcher: Batcher | None = None
        self.draining = False

    @property
    def ready(self) -> bool:
        return self.batcher is not None and not self.draining

    def load(self) -> None:
        """Load the model and start the batch loop (slow: call it off the event loop). A
        model that cannot be loaded is logged, and the service stays not ready."""
        path = self.settings.resolved_model_path
        try:
            backbone = Backbone(path, threads=self.settings.inference_threads)
        except Exception:  # a missing, truncated or foreign file: onnxruntime says which
            log.exception("The model at %s cannot be loaded: /readyz answers 503", path)
            return
        self.card = ModelCard(MODEL_NAME, model_fingerprint(path), model_precision(path))
        self.batcher = Batcher(
            backbone.run,
            max_batch_size=self.settings.max_batch_size,
            max_wait_ms=self.settings.max_wait_ms,
            max_queue=self.settings.max_queue,
            on_batch=self.metrics.observe_batch,
        )
        self.metrics.watch_queue(lambda: self.batcher.depth if self.batcher else 0)

    def model(self) -> ModelCard:
        """The loaded model's card; 503 before it is loaded or while draining."""
        if not self.ready or self.card is None:
            raise not_ready()
        return self.card

    async def decode(self, data: bytes, *, deadline: float) -> np.ndarray:
        """One body as model pixels; ``vision.intake.ImageRejected`` for a bad image, 503 when
        the decoders are saturated, 504 past the deadline."""
        try:
            pixels = await self.decoder.pixels(data, deadline=deadline)
        except QueueFull:
            raise busy() from None
        except DeadlineExceeded:  # its turn to be decoded came too late
            raise deadline_exceeded() from None
        if time.monotonic() >= deadline:
            raise deadline_exceeded()
        return pixels

    async def run(self, pixels: np.ndarray, *, deadline: float) -> BatchRows:
        """Model pixels through the batcher; 503 when the queue is full, 504 past deadline."""
        if self.batcher is None:
            raise not_ready()
        try:
            future = self.batcher.submit(pixels, deadline=deadline)
        except QueueFull:
            raise busy() from None
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(future), timeout=max(deadline - time.monotonic(), 0)
            )
        except (DeadlineExceeded, TimeoutError):
            raise deadline_exceeded() from None

    def close(self) -> None:
        """Finish the queued work, then stop the threads."""
        if self.batcher is not None:
            self.batcher.close()
        self.decoder.close()
