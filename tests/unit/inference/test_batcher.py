"""The dynamic batcher with the real backbone: batches form, a full queue refuses at once,
a passed deadline fails, closing finishes the queued work.

The model run is held on an event where a test needs work to pile up behind a running
batch, so what forms does not depend on timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.inference.batcher import (
    Batcher,
    BatcherClosed,
    BatchRows,
    DeadlineExceeded,
    QueueFull,
)
from mirada.vision.backbone import Backbone, BackboneOutput
from mirada.vision.preprocess import model_pixels, normalise

PHOTOS = (data.chelsea, data.coffee, data.astronaut, data.rocket)
LATER = 60.0  # seconds: a deadline that does not pass during a test


@pytest.fixture(scope="module")
def backbone(model_path: Path) -> Backbone:
    return Backbone(model_path, threads=1)


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    """Four real photos as model pixels ``[4, 224, 224, 3]``."""
    return np.stack([model_pixels(Image.fromarray(photo())) for photo in PHOTOS])


class HeldModel:
    """The backbone behind a gate: each run signals ``started`` and waits for ``gate``."""

    def __init__(self, backbone: Backbone) -> None:
        self.backbone = backbone
        self.started = threading.Event()
        self.gate = threading.Event()
        self.batches: list[int] = []

    def run(self, batch: np.ndarray) -> BackboneOutput:
        self.batches.append(len(batch))
        self.started.set()
        assert self.gate.wait(30)
        return self.backbone.run(batch)


@pytest.fixture
def held(backbone: Backbone) -> HeldModel:
    return HeldModel(backbone)


@pytest.fixture
def batcher(held: HeldModel) -> Iterator[Batcher]:
    batcher = Batcher(held.run, max_batch_size=8, max_wait_ms=0, max_queue=4)
    yield batcher
    held.gate.set()
    batcher.close(timeout=30)


def deadline() -> float:
    return time.monotonic() + LATER


def test_work_submitted_while_a_batch_runs_forms_one_batch(
    backbone: Backbone, pixels: np.ndarray
) -> None:
    held = HeldModel(backbone)
    sizes: list[int] = []
    batcher = Batcher(
        held.run, max_batch_size=8, max_wait_ms=0, max_queue=16, on_batch=sizes.append
    )
    batcher.submit(pixels[:1], deadline=deadline())
    assert held.started.wait(30)
    futures: dict[int, Future[BatchRows]] = {}

    def submit(i: int) -> None:
        futures[i] = batcher.submit(pixels[i : i + 1], deadline=deadline())

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert batcher.depth == 4
    held.gate.set()
    results = {i: future.result(30) for i, future in futures.items()}
    batcher.close(timeout=30)
    assert held.batches == sizes == [1, 4]
    expected = backbone.run(normalise(pixels))
    for i, result in results.items():
        assert result.batch_size == 4
        np.testing.assert_allclose(result.logits[0], expected.logits[i], atol=1e-4)
        np.testing.assert_allclose(result.embeddings[0], expected.embeddings[i], atol=1e-4)


def test_a_submit_of_several_images_gets_its_own_rows_back(
    batcher: Batcher, held: HeldModel, backbone: Backbone, pixels: np.ndarray
) -> None:
    held.gate.set()
    result = batcher.submit(pixels, deadline=deadline()).result(30)
    expected = backbone.run(normalise(pixels))
    assert result.logits.shape == (4, 1000)
    np.testing.assert_allclose(result.logits, expected.logits, atol=1e-4)
    np.testing.assert_allclose(result.embeddings, expected.embeddings, atol=1e-4)


def test_a_full_queue_refuses_at_once(
    batcher: Batcher, held: HeldModel, pixels: np.ndarray
) -> None:
    running = batcher.submit(pixels[:1], deadline=deadline())
    assert held.started.wait(30)
    queued = batcher.submit(pixels, deadline=deadline())  # 4 images: the queue is full
    with pytest.raises(QueueFull):
        batcher.submit(pixels[:1], deadline=deadline())
    assert batcher.depth == 4
    held.gate.set()
    assert running.result(30).logits.shape == (1, 1000)
    assert queued.result(30).logits.shape == (4, 1000)
    assert batcher.submit(pixels[:1], deadline=deadline()).result(30).logits.shape == (1, 1000)


def test_work_whose_deadline_passed_fails_without_running(
    batcher: Batcher, held: HeldModel, pixels: np.ndarray
) -> None:
    held.gate.set()
    late = batcher.submit(pixels[:1], deadline=time.monotonic() - 1)
    with pytest.raises(DeadlineExceeded):
        late.result(30)
    assert held.batches == []


def test_close_finishes_the_queued_work_then_refuses(
    backbone: Backbone, pixels: np.ndarray
) -> None:
    slow = Batcher(backbone.run, max_batch_size=16, max_wait_ms=60_000, max_queue=16)
    futures = [slow.submit(pixels[i : i + 1], deadline=deadline()) for i in range(4)]
    slow.close(timeout=30)  # without the close, the batch would wait a minute for more
    assert all(future.done() for future in futures)
    assert [future.result().logits.shape for future in futures] == [(1, 1000)] * 4
    with pytest.raises(BatcherClosed):
        slow.submit(pixels[:1], deadline=deadline())


def test_pixels_of_another_shape_are_refused(batcher: Batcher) -> None:
    with pytest.raises(ValueError, match="224"):
        batcher.submit(np.zeros((1, 100, 100, 3), np.uint8), deadline=deadline())
