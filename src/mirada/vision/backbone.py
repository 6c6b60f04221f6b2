"""The exported ONNX backbone, run with onnxruntime on the CPU."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

INPUT_NAME = "image"
OUTPUT_NAMES = ["logits", "embedding"]


class ModelNotFound(FileNotFoundError):
    """The ONNX backbone has not been exported yet."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"No model at {path}. Run `make install`, or `mirada model export` and then "
            "`mirada model quantize` for the int8 copy, to create it."
        )
        self.path = path


@dataclass(frozen=True)
class BackboneOutput:
    """What one run gives: ImageNet logits ``[N, 1000]`` and pooled embeddings ``[N, 1280]``."""

    logits: np.ndarray
    embeddings: np.ndarray


class Backbone:
    """An onnxruntime session over the exported model; ``run`` is safe to call from threads."""

    def __init__(self, path: Path, *, threads: int = 0, spinning: bool = True) -> None:
        """Load the model at ``path``; ``threads``: intra-op threads, 0 for ORT's choice.

        ``spinning``: ORT's idle threads busy-wait for the next run, which saves about a
        millisecond per call but takes the cores from decoding threads; bulk pipelines
        that decode beside the model turn it off.
        """
        if not path.is_file():
            raise ModelNotFound(path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if spinning else "0"
        )
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def run(self, batch: np.ndarray) -> BackboneOutput:
        """Run a preprocessed ``[N, 3, 224, 224]`` float32 batch."""
        logits, embeddings = self._session.run(OUTPUT_NAMES, {INPUT_NAME: batch})
        return BackboneOutput(logits=logits, embeddings=embeddings)
