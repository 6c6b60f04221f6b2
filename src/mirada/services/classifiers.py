"""The model a photo is classified with: ImageNet, or the serving version of a project.

Answers are kept in a prediction cache keyed by the user, the photo's bytes and the
model's version: the same photo sent again is not run through the model twice. The user
is in the key so that nobody can tell from the time of an answer whether someone else
sent that photo before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from PIL import Image

from mirada.db import ModelVersion, Project
from mirada.inference import Inference
from mirada.inference.cache import PredictionCache
from mirada.services.errors import Conflict
from mirada.services.heads import load_head
from mirada.storage import BlobStore
from mirada.vision.custom import rank_by_head
from mirada.vision.heads import Head
from mirada.vision.labels import NUM_CLASSES
from mirada.vision.predictions import Prediction, checked_prediction

TOP_K = 5


@dataclass(frozen=True)
class Photo:
    """A decoded photo and the bytes it came from (what the cache knows it by)."""

    data: bytes
    image: Image.Image


Ranker = Callable[[Sequence[Image.Image]], list[list[Prediction]]]


@dataclass(frozen=True)
class ChosenModel:
    """What ranks the classes of a batch of photos, and how the history names it."""

    name: str
    version: str
    rank: Callable[[Sequence[Photo]], list[list[Prediction]]]
    project_id: int | None = None
    version_id: int | None = None
    threshold: float = 0.0


def imagenet_model(
    *, inference: Inference, cache: PredictionCache | None = None, owner_id: int = 0
) -> ChosenModel:
    """The backbone's own 1000 ImageNet classes (answers cached for user ``owner_id``)."""
    model = inference.model
    return ChosenModel(
        name=model.name,
        version=model.version,
        rank=_remembered(
            lambda images: inference.classify(images, k=TOP_K, version=model.version),
            cache=cache,
            model_key=f"user{owner_id}:imagenet:{model.name}:{model.version}:top{TOP_K}",
            classes=NUM_CLASSES,
        ),
    )


def serving_head(*, project: Project, blobs: BlobStore, backbone: str) -> tuple[ModelVersion, Head]:
    """The version that serves ``project`` and its head, to run on the embeddings of the
    backbone whose version is ``backbone``; Conflict when none is trained, or when it was
    trained on another backbone's embeddings (its answers would be quietly wrong)."""
    version = project.serving_version
    if version is None:
        raise Conflict("project_not_trained")
    if version.backbone_version != backbone:
        raise Conflict("version_other_backbone", number=version.number)
    return version, load_head(version=version, blobs=blobs)


def project_model(
    *,
    project: Project,
    inference: Inference,
    blobs: BlobStore,
    cache: PredictionCache | None = None,
    owner_id: int = 0,
) -> ChosenModel:
    """The version that serves ``project``: the backbone's embeddings through its head
    (answers cached for user ``owner_id``)."""
    backbone = inference.model.version
    version, head = serving_head(project=project, blobs=blobs, backbone=backbone)

    def rank(images: Sequence[Image.Image]) -> list[list[Prediction]]:
        return rank_by_head(head, inference.embed(images, version=backbone), TOP_K)

    # A version is immutable, and its head's key is never reused (a row id can be, on
    # SQLite); the backbone's version is in the key in case the model file is replaced.
    model_key = f"user{owner_id}:head:{version.head_key}:{backbone}:top{TOP_K}"
    return ChosenModel(
        name=project.name[:64],
        version=str(version.number),
        rank=_remembered(rank, cache=cache, model_key=model_key, classes=len(head.class_names)),
        project_id=project.id,
        version_id=version.id,
        threshold=project.threshold,
    )


def _remembered(
    rank: Ranker, *, cache: PredictionCache | None, model_key: str, classes: int
) -> Callable[[Sequence[Photo]], list[list[Prediction]]]:
    """``rank`` (of a model with ``classes`` classes) run only on the photos ``cache`` has
    no answer for under ``model_key``."""

    def remembered(photos: Sequence[Photo]) -> list[list[Prediction]]:
        if cache is None:
            return rank([photo.image for photo in photos])
        keys = [f"{model_key}:{hashlib.sha256(photo.data).hexdigest()}" for photo in photos]
        known = [_loaded(cache.get(key), classes=classes) for key in keys]
        missing = [position for position, answer in enumerate(known) if answer is None]
        fresh = rank([photos[position].image for position in missing]) if missing else []
        for position, predictions in zip(missing, fresh, strict=True):
            cache.put(keys[position], _dumped(predictions))
            known[position] = predictions
        return [answer or [] for answer in known]

    return remembered


def _dumped(predictions: list[Prediction]) -> bytes:
    return json.dumps([asdict(p) for p in predictions]).encode()


def _loaded(data: bytes | None, *, classes: int) -> list[Prediction] | None:
    """The cached predictions; None when there are none, or when they do not read as
    predictions (a cache shared in Redis holds what anyone with access wrote)."""
    if data is None:
        return None
    try:
        rows = json.loads(data)
        predictions = [checked_prediction(row, classes=classes) for row in rows]
    except (ValueError, TypeError):
        return None
    return predictions or None
