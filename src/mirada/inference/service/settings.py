"""What the inference service reads from ``MIRADA_*``: the model settings and its own knobs."""

from __future__ import annotations

from pydantic import Field

from mirada.config import ModelSettings


class ServiceSettings(ModelSettings):
    """The model's settings, plus batching, backpressure and decoding of the service."""

    # One onnxruntime thread per worker process unless MIRADA_INFERENCE_THREADS says
    # otherwise: the decoding threads and the other workers need the remaining cores.
    inference_threads: int = Field(default=1, ge=0)
    max_batch_size: int = Field(default=16, ge=1)  # images run through the model at once
    # 0: a batch takes what has queued while the model ran (batches still form under load,
    # and a lone request never waits); more trades latency for larger batches.
    max_wait_ms: float = Field(default=0.0, ge=0)
    max_queue: int = Field(default=64, ge=1)  # images waiting for the model; then 503
    request_deadline_ms: int = Field(default=10_000, gt=0)  # then 504
    decode_workers: int = Field(default=2, ge=1)  # threads decoding and resizing photos
    max_parts: int = Field(default=64, ge=1)  # images in one request; then 413
    drain_timeout_s: int = Field(default=30, gt=0)  # on SIGTERM, for the requests in flight
    # Open connections per worker; more are answered 503 at once. With max_upload_bytes it
    # bounds the request bodies a worker holds: 128 x 20 MB at worst.
    max_connections: int = Field(default=128, ge=1)
