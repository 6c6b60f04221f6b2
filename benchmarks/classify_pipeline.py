"""Decode + preprocess + inference figures for the classify pipeline, as one JSON document.

Usage: ``python benchmarks/classify_pipeline.py`` (the model from ``MIRADA_MODEL_PATH``
or the configured path; run ``mirada model export`` first). Times are medians of
repeats after a warm-up. Ratio (c) pairs each pipeline run with a model-only run made
just before it, so that a busy machine slows both sides of the ratio alike.
"""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import onnxruntime
import PIL
from PIL import Image
from skimage import data

from mirada.config import Settings
from mirada.vision.backbone import Backbone
from mirada.vision.intake import open_image
from mirada.vision.pipeline import classify_stream, default_workers
from mirada.vision.predictions import ImageNetClassifier
from mirada.vision.preprocess import preprocess

BATCH = 16
STREAM_IMAGES = 4 * BATCH  # images per batched pipeline run
THREADS = (1, 2)
SIZES = {"640x480": (640, 480), "4000x3000": (4000, 3000)}
PAIRS = 7


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def median_ms(work: Callable[[], object], repeats: int, per: int = 1) -> float:
    """Median wall time of ``work`` in milliseconds, divided by ``per``, after one warm-up."""
    work()
    return statistics.median(seconds(work) for _ in range(repeats)) * 1000 / per


def figures(ms: float) -> dict[str, float]:
    return {"ms_per_image": round(ms, 3), "images_per_s": round(1000 / ms, 1)}


def photo_jpeg(size: tuple[int, int]) -> bytes:
    """Chelsea the cat resized to ``size``, JPEG quality 90."""
    buffer = io.BytesIO()
    photo = Image.fromarray(data.chelsea()).resize(size, Image.Resampling.BICUBIC)
    photo.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def main() -> None:
    settings = Settings()
    limits = {"max_bytes": settings.max_upload_bytes, "max_pixels": settings.max_image_pixels}

    def prepare(jpeg: bytes) -> np.ndarray:
        return preprocess(open_image(jpeg, **limits))

    jpegs = {name: photo_jpeg(size) for name, size in SIZES.items()}
    batch = np.stack([prepare(jpegs["640x480"])] * BATCH)
    results: dict[str, dict] = {
        "model_only": {},
        **{
            name: {
                "jpeg_bytes": len(jpeg),
                "decode_preprocess": figures(median_ms(partial(prepare, jpeg), 30)),
            }
            for name, jpeg in jpegs.items()
        },
    }
    paired: dict[str, float] = {}
    for threads in THREADS:
        # The model alone at its fastest (ORT's threads spin); the pipeline as the CLI runs
        # it, with spinning off so that the decoding threads get the cores.
        backbone = Backbone(settings.resolved_model_path, threads=threads)
        classifier = ImageNetClassifier(
            Backbone(settings.resolved_model_path, threads=threads, spinning=False),
            batch_size=BATCH,
        )

        def model_batches(backbone: Backbone = backbone) -> None:
            for _ in range(STREAM_IMAGES // BATCH):
                backbone.run(batch)

        results["model_only"][f"{threads}_thread"] = {
            "batch_1": figures(median_ms(partial(backbone.run, batch[:1]), 50)),
            f"batch_{BATCH}": figures(median_ms(model_batches, 5, per=STREAM_IMAGES)),
        }
        for name, jpeg in jpegs.items():

            def single(classifier: ImageNetClassifier = classifier, jpeg: bytes = jpeg) -> None:
                classifier.predict(prepare(jpeg)[np.newaxis], 5)

            def stream(classifier: ImageNetClassifier = classifier, jpeg: bytes = jpeg) -> None:
                for _ in classify_stream(
                    [jpeg] * STREAM_IMAGES,
                    prepare=prepare,
                    classifier=classifier,
                    batch_size=BATCH,
                    workers=default_workers(),
                ):
                    pass

            results[name][f"pipeline_{threads}_thread"] = {
                "batch_1": figures(median_ms(single, 30)),
                f"batch_{BATCH}": figures(median_ms(stream, 5, per=STREAM_IMAGES)),
            }
            if threads == 2:
                paired[name] = statistics.median(
                    seconds(model_batches) / seconds(stream) for _ in range(PAIRS)
                )

    def ms(name: str, *keys: str) -> float:
        node = results[name]
        for key in keys:
            node = node[key]
        return float(node["ms_per_image"])

    results["ratios"] = {
        "a_640x480_decode_preprocess_over_model_1_thread": {
            "value": round(
                ms("640x480", "decode_preprocess") / ms("model_only", "1_thread", "batch_1"), 3
            ),
            "floor": "<= 0.50",
        },
        "b_4000x3000_decode_preprocess_ms": {
            "value": ms("4000x3000", "decode_preprocess"),
            "floor": "<= 25",
        },
        **{
            f"c_{name}_pipeline_over_model_throughput_2_threads_batch_{BATCH}": {
                "value": round(ratio, 3),
                "floor": ">= 0.65" if name == "640x480" else None,
            }
            for name, ratio in paired.items()
        },
    }
    results["machine"] = {
        "cpus": os.cpu_count(),
        "decode_workers": default_workers(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "pillow": PIL.__version__,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
