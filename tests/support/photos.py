"""Real photos that ship in packages, to check a backbone on: scikit-image's photos, and
two small labelled tasks (scanned digits, faces against other things) for custom heads."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from skimage import data
from sklearn.datasets import load_digits

from mirada.vision.backbone import Backbone, BackboneOutput
from mirada.vision.calibration import views
from mirada.vision.heads import train_head
from mirada.vision.preprocess import preprocess_batch
from tests.support.digits import digit_png

# scikit-image's photos (scikit-learn's two are the int8 calibration set).
SKIMAGE_PHOTOS = (
    *("astronaut", "camera", "chelsea", "coffee", "rocket", "brick", "grass", "gravel"),
    *("clock", "coins", "moon", "page", "text", "cell", "hubble_deep_field"),
    *("immunohistochemistry", "retina", "microaneurysms"),
)
VIEWS = 32  # random crops of each photo checked, beside the photo itself
CONFIDENT = 0.3  # fp32's top-1 probability from which an answer is called confident
# The ImageNet classes that are right for the photos that show an ImageNet object.
IMAGENET_RIGHT = {
    "chelsea": {281, 282, 283, 284, 285},  # tabby, tiger, Persian, Siamese, Egyptian cat
    "coffee": {967},  # espresso
    "camera": {872},  # tripod
    "rocket": {657, 744, 812},  # missile, projectile, space shuttle
    "motorcycle_left": {665, 670},  # moped, motor scooter
    "motorcycle_right": {665, 670},
}


def rgb(pixels: np.ndarray) -> Image.Image:
    """A photo from scikit-image (uint8, or floats in 0..1; grey or colour) as RGB."""
    if pixels.dtype != np.uint8:
        pixels = np.round(pixels * 255).astype(np.uint8)
    return Image.fromarray(pixels).convert("RGB")


def skimage_photos() -> dict[str, Image.Image]:
    """Every photo in ``SKIMAGE_PHOTOS`` and both of the stereo motorcycle pair, by name."""
    photos = {name: rgb(getattr(data, name)()) for name in SKIMAGE_PHOTOS}
    left, right, _ = data.stereo_motorcycle()
    return photos | {"motorcycle_left": rgb(left), "motorcycle_right": rgb(right)}


@dataclass(frozen=True)
class Task:
    """Photos with class labels (indices into ``class_names``), split by position."""

    photos: list[Image.Image]
    labels: np.ndarray
    class_names: tuple[str, ...]
    train: np.ndarray
    test: np.ndarray


def digits_task(per_class: int = 45, train: int = 30) -> Task:
    """Scanned digits as 64 x 64 photos, drawn at random across writers; the first
    ``train`` of each class to train on, the others to test."""
    digits = load_digits()
    rng = np.random.default_rng(0)
    chosen = np.concatenate(
        [
            rng.choice(np.flatnonzero(digits.target == d), per_class, replace=False)
            for d in range(10)
        ]
    )
    photos = [Image.open(io.BytesIO(digit_png(digits.images[i]))).convert("RGB") for i in chosen]
    rank = np.arange(len(chosen)) % per_class
    return Task(
        photos,
        digits.target[chosen],
        tuple(str(digit) for digit in range(10)),
        np.flatnonzero(rank < train),
        np.flatnonzero(rank >= train),
    )


def faces_task(train: int = 60) -> Task:
    """scikit-image's 25 x 25 LFW crops: 100 faces, 100 other things; ``train`` of each."""
    rank = np.arange(200) % 100
    return Task(
        [rgb(image) for image in data.lfw_subset()],
        np.repeat([1, 0], 100),
        ("other", "face"),
        np.flatnonzero(rank < train),
        np.flatnonzero(rank >= train),
    )


def run_all(backbone: Backbone, images: Sequence[Image.Image]) -> BackboneOutput:
    """``backbone``'s answers on ``images``, run 32 at a time."""
    runs = [backbone.run(preprocess_batch(images[i : i + 32])) for i in range(0, len(images), 32)]
    return BackboneOutput(
        logits=np.concatenate([run.logits for run in runs]),
        embeddings=np.concatenate([run.embeddings for run in runs]),
    )


def head_accuracy(backbone: Backbone, task: Task) -> float:
    """Held-out accuracy of a head trained on ``backbone``'s embeddings of ``task``."""
    embeddings = run_all(backbone, task.photos).embeddings
    head = train_head(embeddings[task.train], task.labels[task.train], task.class_names)
    guessed = head.logits(embeddings[task.test]).argmax(axis=1)
    return float(np.mean(guessed == task.labels[task.test]))


@dataclass(frozen=True)
class PhotoAnswers:
    """Two backbones' answers on ``skimage_photos()`` (in ``names`` order), then on
    ``VIEWS`` random crops of each."""

    names: list[str]
    fp32: BackboneOutput
    int8: BackboneOutput


def photo_answers(fp32: Backbone, int8: Backbone) -> PhotoAnswers:
    """What ``fp32`` and ``int8`` answer on scikit-image's photos and crops of them."""
    photos = skimage_photos()
    images = [*photos.values(), *views(list(photos.values()), per_photo=VIEWS, seed=1)]
    return PhotoAnswers(list(photos), run_all(fp32, images), run_all(int8, images))


def _top5(logits: np.ndarray) -> np.ndarray:
    return np.argsort(-logits, axis=1)[:, :5]


def agreement(answers: PhotoAnswers) -> dict[str, float]:
    """How often int8 answers as fp32 does: top-1 on all answers and on the confident ones,
    fp32's top-1 within int8's top 5, and the cosine of the two embeddings."""
    fp32, int8 = answers.fp32, answers.int8
    fp32_top5, int8_top5 = _top5(fp32.logits), _top5(int8.logits)
    same = fp32_top5[:, 0] == int8_top5[:, 0]
    exp = np.exp(fp32.logits - fp32.logits.max(axis=1, keepdims=True))
    confident = (exp.max(axis=1) / exp.sum(axis=1)) >= CONFIDENT
    kept = [first in ranks for first, ranks in zip(fp32_top5[:, 0], int8_top5, strict=True)]
    cosine = np.sum(fp32.embeddings * int8.embeddings, axis=1) / (
        np.linalg.norm(fp32.embeddings, axis=1) * np.linalg.norm(int8.embeddings, axis=1)
    )
    return {
        "answers": len(same),
        "top1": float(same.mean()),
        "confident": int(confident.sum()),
        "top1_confident": float(same[confident].mean()),
        "fp32_top1_in_int8_top5": float(np.mean(kept)),
        "cosine_mean": float(cosine.mean()),
        "cosine_median": float(np.median(cosine)),
        "cosine_min": float(cosine.min()),
    }


def imagenet_hits(answers: PhotoAnswers, output: BackboneOutput) -> tuple[float, float]:
    """Top-1 and top-5 accuracy of ``output`` on the photos in ``IMAGENET_RIGHT`` and their
    crops (198 answers)."""
    rows, right = [], []
    for position, name in enumerate(answers.names):
        if name in IMAGENET_RIGHT:
            start = len(answers.names) + position * VIEWS
            rows += [position, *range(start, start + VIEWS)]
            right += [IMAGENET_RIGHT[name]] * (1 + VIEWS)
    top5 = _top5(output.logits[rows])
    return (
        float(np.mean([ranks[0] in ok for ranks, ok in zip(top5, right, strict=True)])),
        float(np.mean([bool(ok & set(ranks)) for ranks, ok in zip(top5, right, strict=True)])),
    )
