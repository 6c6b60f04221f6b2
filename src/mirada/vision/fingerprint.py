"""What a model file is: its version, which a trained head and a stored embedding are
tagged with so that neither is ever read against another backbone's numbers, and its
precision."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx

QUANTISED_OPS = ("QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger")


def model_fingerprint(path: Path) -> str:
    """A short digest of the model file: the backbone version recorded with each result."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def model_precision(path: Path) -> str:
    """``int8`` for a quantised model file (its graph has quantisation nodes), else ``fp32``."""
    graph = onnx.load(str(path), load_external_data=False).graph
    return "int8" if any(node.op_type in QUANTISED_OPS for node in graph.node) else "fp32"
