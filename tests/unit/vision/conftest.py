"""Shared fixtures for the vision tests: the exported model and real photos."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.vision.export import export_backbone

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODEL_PATH = REPO_ROOT / "instance" / "models" / "efficientnet-lite0.onnx"


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The ONNX backbone: ``MIRADA_MODEL_PATH`` when it names a file, else exported once."""
    configured = os.environ.get("MIRADA_MODEL_PATH")
    if configured and Path(configured).is_file():
        return Path(configured)
    if not DEFAULT_MODEL_PATH.is_file():
        export_backbone(DEFAULT_MODEL_PATH)
    return DEFAULT_MODEL_PATH


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def cat_jpeg() -> bytes:
    """scikit-image's photo of Chelsea the cat, as JPEG bytes."""
    return _jpeg(data.chelsea())


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    """scikit-image's photo of a cup of espresso, as JPEG bytes."""
    return _jpeg(data.coffee())
