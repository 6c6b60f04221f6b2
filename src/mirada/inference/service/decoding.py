"""Photos decoded and resized off the event loop and off the batch loop, in a bounded pool.

Each body goes through the one image intake (``vision.intake``: allow-list, byte and
pixel limits, bomb guard, truncation, EXIF orientation) and comes out as model pixels.
At most ``max_pending`` decodes wait or run at once; past that a body is refused at once
(``QueueFull``), so memory stays bounded whatever the load.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from mirada.config import ModelSettings
from mirada.inference.batcher import DeadlineExceeded, QueueFull
from mirada.vision.intake import ImageRejected, open_image
from mirada.vision.preprocess import model_pixels


def decode_pixels(data: bytes, *, limits: ModelSettings) -> np.ndarray:
    """``data`` as model pixels ``[224, 224, 3]`` uint8, or ``ImageRejected``.

    A body no image reader recognises is ``not_an_image``; a known image format outside
    the allow-list stays ``unsupported_format``.
    """
    try:
        image = open_image(
            data,
            max_bytes=limits.max_upload_bytes,
            max_pixels=limits.max_image_pixels,
            max_jpeg_pixels=limits.max_jpeg_pixels,
        )
    except ImageRejected as rejected:
        if rejected.code == "unsupported_format" and not _some_image(data):
            raise ImageRejected("not_an_image", "The body is not an image.") from None
        raise
    with image:
        return model_pixels(image)


def _some_image(data: bytes) -> bool:
    """Whether any format Pillow knows recognises ``data`` from its header."""
    try:
        with Image.open(io.BytesIO(data)):
            return True
    except Exception:  # any failure to identify: not an image
        return False


class Decoder:
    """``decode_workers`` threads that turn bodies into model pixels."""

    def __init__(self, *, limits: ModelSettings, workers: int, max_pending: int) -> None:
        self.limits = limits
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="mirada-decode")
        self._pending = 0
        self._lock = threading.Lock()

    async def pixels(self, data: bytes, *, deadline: float) -> np.ndarray:
        """Decode ``data`` in the pool; ``QueueFull`` at once when the pool is saturated,
        ``DeadlineExceeded`` when its turn comes after ``deadline`` (``time.monotonic()``)."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise QueueFull(f"{self._pending} images are being decoded")
            self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._decode, data, deadline)
        finally:
            with self._lock:
                self._pending -= 1

    def _decode(self, data: bytes, deadline: float) -> np.ndarray:
        if time.monotonic() >= deadline:  # its caller has been answered 504 by now
            raise DeadlineExceeded("the deadline passed before the photo was decoded")
        return decode_pixels(data, limits=self.limits)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
