"""How long a project takes from upload to a trained version, as one JSON document.

Usage: ``python benchmarks/projects_training.py`` (the model from ``MIRADA_MODEL_PATH``,
else ``instance/models/efficientnet-lite0.onnx``; run ``mirada model export`` first).

A project of 5 classes x 50 images (scanned digits 0-4 from scikit-learn, upscaled to
64 x 64 PNGs) goes through the real services in an app on a temporary SQLite data
folder: upload (``add_examples``), the embed job, the train job (embeddings stored),
then 10 more images and a retrain (embedding those 10 inside the train job). Jobs run
with the app's job worker in this process, as the job queue would. The model is loaded
(and its load timed) before the runs, as in a running server. Each figure is the
median of ``RUNS`` runs, each on a new project; the issue's floors are printed beside
the figures they bound.
"""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import sklearn
from PIL import Image
from sklearn.datasets import load_digits

from mirada import runtime
from mirada.config import Settings
from mirada.db import Job, ModelVersion, Project, User
from mirada.db.app_session import db
from mirada.services import examples, jobs, projects
from mirada.web import create_app

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO_ROOT / "instance" / "models" / "efficientnet-lite0.onnx"
CLASSES = 5
PER_CLASS = 50
EXTRA = 10  # images added before the retrain
RUNS = 3
FLOORS_S = {"upload_finished_to_trained_version": 10.0, "retrain_after_10_images": 2.0}


def digit_png(pixels: np.ndarray) -> bytes:
    """An 8 x 8 scanned digit (0..16) scaled to 0..255 and upscaled to 64 x 64, as PNG."""
    grey = Image.fromarray(np.round(pixels * 255 / 16).astype(np.uint8))
    buffer = io.BytesIO()
    grey.resize((64, 64), Image.Resampling.BICUBIC).save(buffer, "PNG")
    return buffer.getvalue()


def uploads(count_per_class: int, skip: int) -> list[examples.LabelledUpload]:
    """``count_per_class`` digits of each class 0-4, after the first ``skip`` of each."""
    digits = load_digits()
    chosen: list[examples.LabelledUpload] = []
    for digit in range(CLASSES):
        for i in np.flatnonzero(digits.target == digit)[skip : skip + count_per_class]:
            chosen.append(
                examples.LabelledUpload(str(digit), f"{i}.png", digit_png(digits.images[i]))
            )
    return chosen


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def run_job(project: Project, kind: str) -> Job:
    """Create a job of ``kind`` and run it here, to the end; it must succeed."""
    job_id = jobs.create_job(session=db.session(), project=project, kind=kind).id
    db.session.commit()
    runtime.job_worker().run(job_id)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None
    assert job.state == "succeeded", (job.state, job.error, job.result)
    return job


def one_run(user: User, number: int, settings: Settings) -> dict[str, Any]:
    """Upload, embed, train, add 10, retrain: the seconds each step took."""
    blobs = runtime.blobs()
    project = projects.create_project(session=db.session(), user=user, name=f"Digits {number}")
    db.session.commit()
    first, extra = uploads(PER_CLASS, 0), uploads(EXTRA // CLASSES, PER_CLASS)
    upload_s, outcomes = timed(
        lambda: examples.add_examples(
            session=db.session(),
            project=project,
            uploads=first,
            settings=settings,
            blobs=blobs,
            budget=runtime.decode_budget(),
            create_classes=True,
        )
    )
    assert all(outcome.example is not None for outcome in outcomes)
    db.session.commit()
    start = time.perf_counter()
    embed_s, _ = timed(lambda: run_job(project, "embed"))
    train_s, job = timed(lambda: run_job(project, "train"))
    to_version_s = time.perf_counter() - start
    version = db.session.get(ModelVersion, job.result["version_id"])
    assert version is not None
    extra_upload_s, _ = timed(
        lambda: examples.add_examples(
            session=db.session(),
            project=project,
            uploads=extra,
            settings=settings,
            blobs=blobs,
            budget=runtime.decode_budget(),
        )
    )
    db.session.commit()
    retrain_s, retrained = timed(lambda: run_job(project, "train"))
    assert retrained.result["number"] == 2
    return {
        "upload_s": upload_s,
        "embed_job_s": embed_s,
        "train_job_s": train_s,
        "upload_finished_to_trained_version_s": to_version_s,
        "upload_10_s": extra_upload_s,
        "retrain_after_10_images_s": retrain_s,
        "accuracy": version.metrics["accuracy"],
        "method": version.metrics["method"],
    }


def main() -> None:
    model = Path(os.environ.get("MIRADA_MODEL_PATH") or DEFAULT_MODEL)
    with tempfile.TemporaryDirectory(prefix="mirada-bench-") as folder:
        settings = Settings(
            env="testing",
            data_dir=Path(folder) / "data",
            database_url=f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
            model_path=model,
        )
        app = create_app(settings)
        with app.app_context():
            db.create_all()
            user = User(email="bench@example.org", password_hash="!")  # noqa: S106 - no sign-in
            db.session.add(user)
            db.session.commit()
            probe = Image.new("RGB", (64, 64))
            load_s, _ = timed(lambda: runtime.inference().embed([probe]))
            runs = [one_run(user, number, settings) for number in range(1, RUNS + 1)]
        db_engine_dispose(app)

    def median(key: str) -> float:
        return round(statistics.median(run[key] for run in runs), 3)

    to_version = median("upload_finished_to_trained_version_s")
    retrain = median("retrain_after_10_images_s")
    result = {
        "project": {
            "classes": CLASSES,
            "images_per_class": PER_CLASS,
            "images": CLASSES * PER_CLASS,
            "image": "scikit-learn digits 0-4, 8x8 upscaled to 64x64 PNG",
            "added_before_retrain": EXTRA,
        },
        "runs": RUNS,
        "model_load_and_first_embed_s": round(load_s, 3),
        "median_s": {
            "upload_250_images": median("upload_s"),
            "embed_job_250_images": median("embed_job_s"),
            "train_job_embeddings_stored": median("train_job_s"),
            "upload_finished_to_trained_version": to_version,
            "upload_10_images": median("upload_10_s"),
            "retrain_after_10_images": retrain,
        },
        "floors": {
            "upload_finished_to_trained_version": {
                "value_s": to_version,
                "floor": f"< {FLOORS_S['upload_finished_to_trained_version']:g} s",
                "within": to_version < FLOORS_S["upload_finished_to_trained_version"],
            },
            "retrain_with_cached_embeddings_after_10_images": {
                "value_s": retrain,
                "floor": f"< {FLOORS_S['retrain_after_10_images']:g} s",
                "within": retrain < FLOORS_S["retrain_after_10_images"],
            },
        },
        "each_run": [
            {
                key: round(value, 3) if isinstance(value, float) else value
                for key, value in run.items()
            }
            for run in runs
        ],
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "onnxruntime": onnxruntime.__version__,
            "scikit_learn": sklearn.__version__,
            "database": "sqlite",
        },
    }
    print(json.dumps(result, indent=2))


def db_engine_dispose(app: Any) -> None:
    """Close the pooled connections before the temporary folder goes."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
