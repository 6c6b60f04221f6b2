"""fp32 against int8 EfficientNet-Lite0: latency per image and agreement, as one JSON document.

Usage: ``PYTHONPATH=src:. python benchmarks/int8.py`` (the fp32 model from
``MIRADA_MODEL_PATH``, else ``instance/models/efficientnet-lite0.onnx``). The model is
quantised twice into a temporary folder, as ``mirada model quantize`` does it (calibrated on
scikit-learn's two photos), in the QDQ and the QOperator formats. Latency: scikit-image's
photos, preprocessed once, run at batch 1 and 8 on 1 and 2 intra-op threads; the models
take turns call by call, so that a busy machine slows each alike; medians of ``ROUNDS``
calls after a warm-up. Agreement and accuracy, for QDQ (the format ``mirada model
quantize`` writes; the QOperator file's logits are only compared with QDQ's): as
``tests/integration/test_int8.py`` measures them, plus a head trained on fp32 embeddings
run on int8 ones (what switching the precision of an install without re-embedding gives),
and heads cross-validated on every scanned digit and face crop.
"""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.quantization import QuantFormat
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold
from tests.support.digits import digit_png
from tests.support.photos import (
    Task,
    agreement,
    digits_task,
    faces_task,
    imagenet_hits,
    photo_answers,
    run_all,
    skimage_photos,
)

from mirada.vision.backbone import Backbone
from mirada.vision.calibration import default_calibration
from mirada.vision.heads import train_head
from mirada.vision.preprocess import preprocess_batch
from mirada.vision.quantize import quantize_backbone

DEFAULT_MODEL = Path("instance/models/efficientnet-lite0.onnx")
FORMATS = {"qdq": QuantFormat.QDQ, "qoperator": QuantFormat.QOperator}
THREADS = (1, 2)
BATCHES = (1, 8)
ROUNDS = {1: 40, 8: 12}


def latency(paths: dict[str, Path], pixels: np.ndarray) -> dict[str, object]:
    """Median ms per image of each model, by threads and batch size, the models in turn."""
    table: dict[str, object] = {}
    for threads in THREADS:
        models = {name: Backbone(path, threads=threads) for name, path in paths.items()}
        for batch in BATCHES:
            times: dict[str, list[float]] = {name: [] for name in models}
            for round_ in range(ROUNDS[batch] + 2):  # two warm-up rounds
                start = round_ * batch % (len(pixels) - batch)
                inputs = pixels[start : start + batch]
                for name, model in models.items():
                    began = time.perf_counter()
                    model.run(inputs)
                    if round_ >= 2:
                        times[name].append((time.perf_counter() - began) * 1000 / batch)
            ms = {name: round(statistics.median(values), 2) for name, values in times.items()}
            table[f"threads={threads} batch={batch}"] = {
                "ms_per_image": ms,
                "int8_speedup": {
                    name: round(ms["fp32"] / value, 2)
                    for name, value in ms.items()
                    if name != "fp32"
                },
            }
    return table


def heads(fp32: Backbone, int8: Backbone, task: Task) -> dict[str, float]:
    """Held-out accuracy: fp32 head on fp32, int8 head on int8, fp32 head on int8."""
    embeddings = {
        name: run_all(model, task.photos).embeddings
        for name, model in (("fp32", fp32), ("int8", int8))
    }
    trained = {
        name: train_head(found[task.train], task.labels[task.train], task.class_names)
        for name, found in embeddings.items()
    }

    def accuracy(head_of: str, embeddings_of: str) -> float:
        guessed = trained[head_of].logits(embeddings[embeddings_of][task.test]).argmax(axis=1)
        return round(float(np.mean(guessed == task.labels[task.test])), 4)

    return {
        "fp32": accuracy("fp32", "fp32"),
        "int8": accuracy("int8", "int8"),
        "fp32_head_on_int8": accuracy("fp32", "int8"),
        "test_photos": len(task.test),
    }


def cross_validated(fp32: Backbone, int8: Backbone) -> dict[str, object]:
    """Heads trained and tested on each backbone's own embeddings by 5-fold cross-validation
    on every scanned digit (1797) and every face crop (200): accuracies, and how many photos
    only one of the two got right (the evidence a difference rests on)."""
    digits = load_digits()
    sets = {
        "digits": (
            [Image.open(io.BytesIO(digit_png(pixels))).convert("RGB") for pixels in digits.images],
            digits.target,
        ),
        "faces": (faces_task().photos, faces_task().labels),
    }
    report: dict[str, object] = {}
    for name, (photos, labels) in sets.items():
        right = {}
        for model_name, model in (("fp32", fp32), ("int8", int8)):
            embeddings = run_all(model, photos).embeddings
            hits = np.zeros(len(labels), bool)
            folds = StratifiedKFold(5, shuffle=True, random_state=0).split(embeddings, labels)
            for train, test in folds:
                classes = tuple(str(c) for c in range(int(labels.max()) + 1))
                head = train_head(embeddings[train], labels[train], classes)
                hits[test] = head.logits(embeddings[test]).argmax(axis=1) == labels[test]
            right[model_name] = hits
        report[name] = {
            "photos": len(labels),
            "fp32": round(float(right["fp32"].mean()), 4),
            "int8": round(float(right["int8"].mean()), 4),
            "only_fp32_right": int((right["fp32"] & ~right["int8"]).sum()),
            "only_int8_right": int((right["int8"] & ~right["fp32"]).sum()),
        }
    return report


def formats_gap(paths: dict[str, Path], pixels: np.ndarray) -> float:
    """The largest logit difference between the two int8 formats on the photos."""
    qdq, qoperator = (Backbone(paths[name], threads=2).run(pixels).logits for name in FORMATS)
    return float(np.abs(qdq - qoperator).max())


def accuracy(fp32_path: Path, int8_path: Path) -> dict[str, object]:
    fp32, int8 = Backbone(fp32_path, threads=2), Backbone(int8_path, threads=2)
    answers = photo_answers(fp32, int8)
    fp32_hits, int8_hits = (
        imagenet_hits(answers, output) for output in (answers.fp32, answers.int8)
    )
    return {
        "agreement_with_fp32": {
            name: round(value, 4) for name, value in agreement(answers).items()
        },
        "imagenet_labelled": {
            "fp32": {"top1": round(fp32_hits[0], 4), "top5": round(fp32_hits[1], 4)},
            "int8": {"top1": round(int8_hits[0], 4), "top5": round(int8_hits[1], 4)},
        },
        "heads": {
            "digits": heads(fp32, int8, digits_task()),
            "faces": heads(fp32, int8, faces_task()),
        },
        "heads_cross_validated": cross_validated(fp32, int8),
    }


def main() -> None:
    fp32 = Path(os.environ.get("MIRADA_MODEL_PATH") or DEFAULT_MODEL)
    calibration = default_calibration()
    with tempfile.TemporaryDirectory(prefix="mirada-int8-") as folder:
        paths, quantize_s = {"fp32": fp32}, {}
        for name, quant_format in FORMATS.items():
            began = time.perf_counter()
            paths[name] = quantize_backbone(
                fp32, Path(folder) / f"{name}.onnx", calibration, quant_format=quant_format
            )
            quantize_s[name] = round(time.perf_counter() - began, 1)
        pixels = preprocess_batch(list(skimage_photos().values()))
        report = {
            "machine": {
                "python": platform.python_version(),
                "onnxruntime": onnxruntime.__version__,
                "cpus": os.cpu_count(),
                "note": "cores shared with other work while measured",
            },
            "calibration_images": len(calibration),
            "quantize_s": quantize_s,
            "size_mb": {name: round(path.stat().st_size / 1e6, 1) for name, path in paths.items()},
            "latency": latency(paths, pixels),
            "qoperator_vs_qdq_max_logit_gap": round(formats_gap(paths, pixels), 5),
            "accuracy_qdq": accuracy(fp32, paths["qdq"]),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
