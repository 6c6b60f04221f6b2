"""The model a photo is classified with: ImageNet, or the serving version of a project."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from mirada.db import ModelVersion, Project
from mirada.inference import Inference
from mirada.services.errors import Conflict
from mirada.services.heads import load_head
from mirada.storage import BlobStore
from mirada.vision.custom import rank_by_head
from mirada.vision.heads import Head
from mirada.vision.predictions import Prediction

TOP_K = 5


@dataclass(frozen=True)
class ChosenModel:
    """What ranks the classes of a batch of images, and how the history names it."""

    name: str
    version: str
    rank: Callable[[Sequence[Image.Image]], list[list[Prediction]]]
    project_id: int | None = None
    version_id: int | None = None
    threshold: float = 0.0


def imagenet_model(*, inference: Inference) -> ChosenModel:
    """The backbone's own 1000 ImageNet classes."""
    return ChosenModel(
        name=inference.model.name,
        version=inference.model.version,
        rank=lambda images: inference.classify(images, k=TOP_K),
    )


def serving_head(*, project: Project, blobs: BlobStore) -> tuple[ModelVersion, Head]:
    """The version that serves ``project`` and its head; Conflict when none is trained."""
    version = project.serving_version
    if version is None:
        raise Conflict("project_not_trained")
    return version, load_head(version=version, blobs=blobs)


def project_model(*, project: Project, inference: Inference, blobs: BlobStore) -> ChosenModel:
    """The version that serves ``project``: the backbone's embeddings through its head."""
    version, head = serving_head(project=project, blobs=blobs)

    def rank(images: Sequence[Image.Image]) -> list[list[Prediction]]:
        return rank_by_head(head, inference.embed(images), TOP_K)

    return ChosenModel(
        name=project.name[:64],
        version=str(version.number),
        rank=rank,
        project_id=project.id,
        version_id=version.id,
        threshold=project.threshold,
    )
