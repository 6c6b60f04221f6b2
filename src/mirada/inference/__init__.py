"""Inference as the web app sees it: one interface, an adapter chosen from the settings.

The in-process adapter loads onnxruntime lazily, on first use, so the web process
imports no ML runtime until it needs one.
"""

from __future__ import annotations

from mirada.config import Settings
from mirada.inference.base import Inference, InferenceUnavailable, ModelInfo
from mirada.inference.in_process import InProcessInference


def inference_from(settings: Settings) -> Inference:
    """The inference adapter the settings ask for: the service's replicas when
    ``MIRADA_INFERENCE_URL`` names them, the model in this process otherwise."""
    if settings.inference_urls:
        from mirada.inference.http import HttpInference

        return HttpInference(
            urls=settings.inference_urls,
            token=settings.inference_token,
            timeout_s=settings.inference_timeout_s,
        )
    return InProcessInference(
        model_path=settings.resolved_model_path, threads=settings.inference_threads
    )


__all__ = [
    "InProcessInference",
    "Inference",
    "InferenceUnavailable",
    "ModelInfo",
    "inference_from",
]
