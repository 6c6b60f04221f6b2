"""The exported ONNX backbone: its outputs, and that it matches torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from PIL import Image
from skimage import data

from mirada.vision.backbone import Backbone, ModelNotFound
from mirada.vision.export import check_export
from mirada.vision.preprocess import preprocess_batch


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    return preprocess_batch([Image.fromarray(data.chelsea()), Image.fromarray(data.coffee())])


def test_onnx_matches_torch_on_real_photos(model_path: Path, photos: np.ndarray) -> None:
    assert check_export(model_path, photos) < 1e-3


def test_outputs(model_path: Path, photos: np.ndarray) -> None:
    output = Backbone(model_path, threads=1).run(photos)
    assert output.logits.shape == (2, 1000)
    assert output.embeddings.shape == (2, 1280)
    assert output.logits.dtype == output.embeddings.dtype == np.float32


def test_the_embedding_is_the_input_of_the_last_layer(model_path: Path, photos: np.ndarray) -> None:
    graph = onnx.load(str(model_path)).graph
    [last] = [node for node in graph.node if "logits" in node.output]
    assert last.input[0] == "embedding"
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    weight, bias = weights[last.input[1]], weights[last.input[2]]
    output = Backbone(model_path).run(photos)
    weight = weight if weight.shape == (1280, 1000) else weight.T
    np.testing.assert_allclose(output.embeddings @ weight + bias, output.logits, atol=1e-3)
    assert output.embeddings.min() >= 0  # pooled ReLU6 activations


def test_dynamic_batch_size(model_path: Path, photos: np.ndarray) -> None:
    backbone = Backbone(model_path)
    together = backbone.run(photos).logits
    one = backbone.run(photos[1:]).logits
    np.testing.assert_allclose(one[0], together[1], atol=1e-4)


def test_missing_model_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="mirada model export"):
        Backbone(tmp_path / "nothing.onnx")
