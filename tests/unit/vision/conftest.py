"""Real embeddings for the head tests: scikit-learn's scanned digits run through the backbone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from sklearn.datasets import load_digits

from mirada.vision.backbone import Backbone
from mirada.vision.preprocess import preprocess_batch

DIGITS_PER_CLASS = 45
TRAIN_PER_CLASS = 30


def digit_photo(pixels: np.ndarray) -> Image.Image:
    """An 8 x 8 scan (0..16) as a 96 x 96 RGB photo: dark ink on white paper, small margin."""
    ink = np.clip(np.rint(255 - pixels * 255 / 16), 0, 255).astype(np.uint8)
    paper = ImageOps.expand(Image.fromarray(ink), border=2, fill=255)
    return paper.resize((96, 96), Image.Resampling.BICUBIC).convert("RGB")


@dataclass(frozen=True)
class Digits:
    """Photos of digits, their backbone embeddings and labels; ``train``/``test`` positions."""

    photos: list[Image.Image]
    embeddings: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    train: np.ndarray
    test: np.ndarray


@pytest.fixture(scope="session")
def backbone(model_path: Path) -> Backbone:
    return Backbone(model_path)


@pytest.fixture(scope="session")
def digits(backbone: Backbone) -> Digits:
    """The first 45 scans of each digit; the first 30 of each to train, the other 15 to test."""
    data = load_digits()
    positions = np.concatenate(
        [np.flatnonzero(data.target == digit)[:DIGITS_PER_CLASS] for digit in range(10)]
    )
    photos = [digit_photo(data.images[i]) for i in positions]
    embeddings = np.concatenate(
        [
            backbone.run(preprocess_batch(photos[start : start + 32])).embeddings
            for start in range(0, len(photos), 32)
        ]
    )
    labels = data.target[positions]
    rank = np.arange(len(labels)) % DIGITS_PER_CLASS  # position within its class
    return Digits(
        photos=photos,
        embeddings=embeddings,
        labels=labels,
        class_names=tuple(str(digit) for digit in range(10)),
        train=np.flatnonzero(rank < TRAIN_PER_CLASS),
        test=np.flatnonzero(rank >= TRAIN_PER_CLASS),
    )
