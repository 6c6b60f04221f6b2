"""Dynamic batching: images submitted from many threads run through the model together.

One thread collects what was submitted until ``max_batch_size`` images are waiting or
``max_wait_ms`` have passed since the oldest arrived, drops the work whose deadline has
passed, normalises the rest and runs the model once, then hands each submitter its rows.
The queue is bounded in images: a submit that would overflow it is refused at once
(``QueueFull``), never queued, so memory stays bounded under any load.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from mirada.vision.backbone import BackboneOutput
from mirada.vision.preprocess import PIXELS_SHAPE, normalise


class QueueFull(Exception):
    """The queue holds as many images as it may: try again shortly."""


class DeadlineExceeded(Exception):
    """The work's deadline passed before the model ran it."""


class BatcherClosed(RuntimeError):
    """The batcher no longer takes work."""


@dataclass(frozen=True)
class BatchRows(BackboneOutput):
    """One submit's rows of a batch's output, with where its time went (seconds)."""

    queue_s: float = 0.0  # from submit until its batch started running
    inference_s: float = 0.0  # the batch's model run
    batch_size: int = 0  # images in the batch it ran in


@dataclass
class _Work:
    pixels: np.ndarray
    deadline: float
    submitted: float
    future: Future[BatchRows]

    @property
    def size(self) -> int:
        return len(self.pixels)


class Batcher:
    """Runs ``run`` (a normalised ``[N, 3, 224, 224]`` batch) for submits from any thread."""

    def __init__(
        self,
        run: Callable[[np.ndarray], BackboneOutput],
        *,
        max_batch_size: int,
        max_wait_ms: float,
        max_queue: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """``on_batch`` is told the size of each batch run (for the metrics)."""
        if max_batch_size < 1 or max_queue < 1 or max_wait_ms < 0:
            raise ValueError("a batcher needs a positive batch size and queue, a wait ≥ 0")
        self._run = run
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.max_queue = max_queue
        self._on_batch = on_batch
        self._queue: deque[_Work] = deque()
        self._depth = 0  # images queued
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="mirada-batcher", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        """Images waiting for a batch now."""
        return self._depth

    def submit(self, pixels: np.ndarray, *, deadline: float) -> Future[BatchRows]:
        """Queue model pixels ``[n, 224, 224, 3]`` uint8 to run before ``deadline``
        (``time.monotonic()``); raises ``QueueFull`` at once when they do not fit."""
        if pixels.ndim != 4 or pixels.shape[1:] != PIXELS_SHAPE or pixels.dtype != np.uint8:
            raise ValueError(f"expected [n, 224, 224, 3] uint8 pixels, got {pixels.shape}")
        work = _Work(pixels, deadline, time.monotonic(), Future())
        with self._changed:
            if self._closed:
                raise BatcherClosed("the batcher is closed")
            if self._depth + work.size > self.max_queue:
                raise QueueFull(f"{self._depth} images queued, at most {self.max_queue}")
            self._queue.append(work)
            self._depth += work.size
            self._changed.notify()
        return work.future

    def close(self, timeout: float | None = None) -> None:
        """Take no more work, finish what is queued, then stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._execute(batch)

    def _next_batch(self) -> list[_Work] | None:
        """Wait for work, then until the batch is full or the oldest has waited enough."""
        with self._changed:
            while not self._queue:
                if self._closed:
                    return None
                self._changed.wait()
            until = self._queue[0].submitted + self.max_wait_s
            while self._depth < self.max_batch_size and not self._closed:
                left = until - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            batch = [self._queue.popleft()]
            taken = batch[0].size
            while self._queue and taken + self._queue[0].size <= self.max_batch_size:
                taken += self._queue[0].size
                batch.append(self._queue.popleft())
            self._depth -= taken
        return batch

    def _execute(self, batch: list[_Work]) -> None:
        """Run the live part of ``batch`` once and give each its rows."""
        now = time.monotonic()
        live = []
        for work in batch:
            if not work.future.set_running_or_notify_cancel():
                continue  # its caller gave up
            if work.deadline <= now:
                work.future.set_exception(DeadlineExceeded("the deadline passed in the queue"))
            else:
                live.append(work)
        if not live:
            return
        pixels = live[0].pixels if len(live) == 1 else np.concatenate([w.pixels for w in live])
        try:
            output = self._run(normalise(pixels))
        except Exception as error:  # the model failed: every caller hears it
            for work in live:
                work.future.set_exception(error)
            return
        inference_s = time.monotonic() - now
        if self._on_batch is not None:
            self._on_batch(len(pixels))
        start = 0
        for work in live:
            rows = slice(start, start + work.size)
            start += work.size
            work.future.set_result(
                BatchRows(
                    logits=output.logits[rows],
                    embeddings=output.embeddings[rows],
                    queue_s=now - work.submitted,
                    inference_s=inference_s,
                    batch_size=len(pixels),
                )
            )
