"""A statically quantised int8 copy of the ONNX backbone (onnxruntime ``quantize_static``).

Weights are int8 per output channel, activations uint8 with ranges calibrated on real
photos preprocessed exactly as the model's input. The format is QDQ: onnxruntime fuses
its QuantizeLinear/DequantizeLinear pairs into integer kernels, and any ONNX runtime can
read the file. The pooled ``embedding`` and the ``logits`` stay float32 outputs; the
pooling, the flatten and the final linear layer are left in float, so the embedding is
the average of the last (int8) feature map rather than 256 levels.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

from mirada.vision.preprocess import preprocess_batch

INPUT_NAME = "image"
OUTPUTS = ("logits", "embedding")
FLOAT_OPS = ("GlobalAveragePool", "Flatten", "Gemm")  # after the last feature map
QUANTISED_OPS = ("QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger")
CALIBRATION_BATCH = 8


class _Photos(CalibrationDataReader):
    """Feeds the calibration photos to the calibrator, a few at a time."""

    def __init__(self, images: Sequence[Image.Image]) -> None:
        self._batches = self._preprocessed(images)

    @staticmethod
    def _preprocessed(images: Sequence[Image.Image]) -> Iterator[dict[str, np.ndarray]]:
        for start in range(0, len(images), CALIBRATION_BATCH):
            yield {INPUT_NAME: preprocess_batch(images[start : start + CALIBRATION_BATCH])}

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def quantize_backbone(
    fp32_path: Path,
    int8_path: Path,
    calibration_images: Sequence[Image.Image],
    *,
    quant_format: QuantFormat = QuantFormat.QDQ,
) -> Path:
    """Write the int8 copy of the backbone at ``fp32_path`` to ``int8_path`` and return it.

    ``calibration_images`` are RGB photos (a hundred or so views of varied scenes do: see
    ``mirada.vision.calibration``); the file appears whole or not at all.
    """
    if not calibration_images:
        raise ValueError("quantising needs at least one calibration photo")
    int8_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=int8_path.parent) as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quantized = Path(scratch) / "int8.onnx"
        # onnx's own shape inference is enough for this graph; the symbolic one needs sympy,
        # which only the export tools bring.
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        if any(node.op_type in QUANTISED_OPS for node in model.graph.node):
            raise ValueError(f"{fp32_path} is already quantised; give the fp32 model")
        quantize_static(
            prepared,
            quantized,
            _Photos(calibration_images),
            quant_format=quant_format,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=[node.name for node in model.graph.node if node.op_type in FLOAT_OPS],
            calibrate_method=CalibrationMethod.MinMax,
        )
        _check_outputs(onnx.load(str(quantized)))
        os.replace(quantized, int8_path)
    return int8_path


def _check_outputs(model: onnx.ModelProto) -> None:
    """Refuse a quantised model that lost an output or made one other than float32."""
    found = {output.name: output.type.tensor_type.elem_type for output in model.graph.output}
    for name in OUTPUTS:
        if found.get(name) != onnx.TensorProto.FLOAT:
            raise ValueError(f"the quantised model's {name!r} output is not float32")
