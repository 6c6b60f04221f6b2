"""Classify a stream of images, decoding the next batch while the model runs this one.

onnxruntime, Pillow's decoders and its resize release the GIL, so a small thread pool
keeps the cores busy during inference instead of decoding and inferring in turn.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from mirada.vision.intake import ImageRejected
from mirada.vision.predictions import Classifier, Prediction

Source = TypeVar("Source")

# What ``prepare`` may raise for one source without stopping the others.
REFUSALS = (ImageRejected, OSError)


def default_workers() -> int:
    """Decoding threads beside the model: one per core (at most 4); they sleep while it runs."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Outcome(Generic[Source]):
    """The predictions for one source, or why it was refused."""

    source: Source
    predictions: list[Prediction] | None = None
    error: ImageRejected | OSError | None = None


def classify_stream(
    sources: Iterable[Source],
    *,
    prepare: Callable[[Source], np.ndarray],
    classifier: Classifier,
    k: int = 5,
    batch_size: int = 16,
    workers: int = 1,
) -> Iterator[Outcome[Source]]:
    """Yield one ``Outcome`` per source, in order.

    ``prepare`` turns a source into a preprocessed ``[3, 224, 224]`` array (raising
    ``ImageRejected`` or ``OSError`` to refuse it); it runs on ``workers`` threads, at
    most two batches ahead of the model.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirada-decode")
    ahead: deque[tuple[Source, Future[np.ndarray]]] = deque()
    remaining = iter(sources)

    def submit(count: int) -> None:
        for source in remaining:
            ahead.append((source, pool.submit(prepare, source)))
            count -= 1
            if count == 0:
                return

    try:
        submit(2 * batch_size)
        group: list[tuple[Source, np.ndarray | ImageRejected | OSError]] = []
        ready = 0
        while ahead:
            source, future = ahead.popleft()
            submit(1)
            try:
                group.append((source, future.result()))
                ready += 1
            except REFUSALS as error:
                group.append((source, error))
            if ready == batch_size or not ahead:
                yield from _run(group, classifier, k)
                group, ready = [], 0
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run(
    group: list[tuple[Source, np.ndarray | ImageRejected | OSError]], classifier: Classifier, k: int
) -> Iterator[Outcome[Source]]:
    arrays = [item for _, item in group if isinstance(item, np.ndarray)]
    predictions = iter(classifier.predict(np.stack(arrays), k) if arrays else [])
    for source, item in group:
        if isinstance(item, np.ndarray):
            yield Outcome(source, predictions=next(predictions))
        else:
            yield Outcome(source, error=item)
