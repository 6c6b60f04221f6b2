"""Choosing the model a photo is classified with, on a plain session and the real backbone."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy.orm import Session

from mirada.db import ModelVersion, Project, User
from mirada.inference.cache import LruCache
from mirada.inference.in_process import InProcessInference
from mirada.services.classifiers import Photo, imagenet_model, project_model, serving_head
from mirada.services.errors import Conflict
from mirada.services.heads import load_head
from mirada.storage.local import LocalBlobStore
from mirada.vision.heads import EMBEDDING_SIZE, Head


@pytest.fixture(scope="module")
def inference(model_path: Path) -> InProcessInference:
    return InProcessInference(model_path=model_path, threads=1)


@pytest.fixture()
def project(session: Session) -> Project:
    owner = User(email="ana@example.com", password_hash="x")
    session.add(owner)
    session.flush()
    row = Project(user_id=owner.id, name="Gatos y cafés", threshold=0.7)
    session.add(row)
    session.flush()
    return row


def head(names: tuple[str, ...], seed: int = 0) -> Head:
    rng = np.random.default_rng(seed)
    return Head(
        weights=rng.normal(size=(len(names), EMBEDDING_SIZE)).astype(np.float32),
        bias=np.zeros(len(names), np.float32),
        mean=np.zeros(EMBEDDING_SIZE, np.float32),
        scale=np.ones(EMBEDDING_SIZE, np.float32),
        class_names=names,
    )


def trained(
    session: Session, blobs: LocalBlobStore, project: Project, trained: Head, *, backbone: str
) -> None:
    key = f"users/{project.user_id}/heads/{uuid.uuid4().hex}"  # heads are kept by key
    blobs.put(key, trained.to_bytes())
    version = ModelVersion(
        project_id=project.id,
        number=1,
        head_key=key,
        class_names=list(trained.class_names),
        class_ids=list(range(len(trained.class_names))),
        class_counts={},
        example_count=0,
        metrics={},
        backbone_version=backbone,
    )
    session.add(version)
    session.flush()
    project.serving_version = version
    session.flush()


def test_imagenet_ranks_the_backbones_classes(
    inference: InProcessInference, cat_jpeg: bytes
) -> None:
    model = imagenet_model(inference=inference)
    [ranked] = model.rank([Photo(cat_jpeg, Image.open(io.BytesIO(cat_jpeg)).convert("RGB"))])
    assert len(ranked) == 5
    assert any("cat" in p.label for p in ranked)
    assert (model.project_id, model.version_id, model.threshold) == (None, None, 0.0)
    assert model.name == inference.model.name


def test_an_untrained_project_is_refused(
    project: Project, inference: InProcessInference, blobs: LocalBlobStore
) -> None:
    with pytest.raises(Conflict) as refusal:
        project_model(project=project, inference=inference, blobs=blobs)
    assert (refusal.value.code, refusal.value.status) == ("project_not_trained", 409)
    with pytest.raises(Conflict):
        serving_head(project=project, blobs=blobs, backbone=inference.model.version)


def test_a_trained_project_ranks_its_own_classes(
    session: Session,
    project: Project,
    inference: InProcessInference,
    blobs: LocalBlobStore,
    cat_jpeg: bytes,
) -> None:
    trained(
        session, blobs, project, head(("gato", "café", "otro")), backbone=inference.model.version
    )
    model = project_model(project=project, inference=inference, blobs=blobs)
    assert (model.name, model.version, model.threshold) == ("Gatos y cafés", "1", 0.7)
    assert (model.project_id, model.version_id) == (project.id, project.serving_version_id)
    [ranked] = model.rank([Photo(cat_jpeg, Image.open(io.BytesIO(cat_jpeg)).convert("RGB"))])
    assert sorted(p.label for p in ranked) == ["café", "gato", "otro"]  # top 5 capped at 3
    assert sum(p.score for p in ranked) == pytest.approx(1.0, abs=1e-4)


def test_a_version_trained_on_another_backbone_is_refused_not_run(
    session: Session, project: Project, inference: InProcessInference, blobs: LocalBlobStore
) -> None:
    trained(session, blobs, project, head(("gato", "café")), backbone="0123456789ab")
    with pytest.raises(Conflict) as refusal:
        project_model(project=project, inference=inference, blobs=blobs)
    assert refusal.value.code == "version_other_backbone"
    assert refusal.value.params == {"number": 1}


def test_a_head_is_read_once(session: Session, project: Project, blobs: LocalBlobStore) -> None:
    trained(session, blobs, project, head(("a", "b"), seed=1), backbone="test")
    version = project.serving_version
    assert version is not None
    first = load_head(version=version, blobs=blobs)
    blobs.delete(version.head_key)  # versions never change: the kept head still serves
    assert load_head(version=version, blobs=blobs) is first
    assert first.class_names == ("a", "b")


class CountingInference(InProcessInference):
    """The real model, counting the images it is asked to classify."""

    classified = 0

    def classify(self, images, *, k=5, version=None):  # type: ignore[no-untyped-def]
        self.classified += len(images)
        return super().classify(images, k=k, version=version)


def test_the_same_photo_is_ranked_once_and_answered_from_the_cache(
    model_path: Path, cat_jpeg: bytes, coffee_jpeg: bytes
) -> None:
    counted = CountingInference(model_path=model_path, threads=1)
    cache = LruCache(16)
    model = imagenet_model(inference=counted, cache=cache)
    cat = Photo(cat_jpeg, Image.open(io.BytesIO(cat_jpeg)).convert("RGB"))
    coffee = Photo(coffee_jpeg, Image.open(io.BytesIO(coffee_jpeg)).convert("RGB"))
    first = model.rank([cat])
    again = model.rank([coffee, cat])
    assert counted.classified == 2  # the cat once, the coffee once
    assert (cache.hits, cache.misses) == (1, 2)
    assert again[1] == first[0]
    assert "espresso" in again[0][0].label
    # Another model version is another key: nothing is answered for it from the cache.
    other = imagenet_model(inference=counted, cache=cache)
    assert other.rank([cat]) == first and cache.hits == 2
    assert counted.classified == 2


@pytest.mark.parametrize(
    "junk",
    [
        b"not json",
        b"[]",
        b'[[1, "x", 0.9]]',
        b'[{"index": 5000, "label": "x", "score": 0.9}]',
        b'[{"index": 1, "label": "x", "score": NaN}]',
        b'[{"index": 1, "label": "x", "score": 7.0}]',
        b'[{"index": 1, "label": null, "score": 0.9}]',
    ],
)
def test_a_cached_answer_that_does_not_read_as_one_is_a_miss(
    model_path: Path, cat_jpeg: bytes, junk: bytes
) -> None:
    counted = CountingInference(model_path=model_path, threads=1)
    cache = LruCache(16)
    model = imagenet_model(inference=counted, cache=cache, owner_id=7)
    cat = Photo(cat_jpeg, Image.open(io.BytesIO(cat_jpeg)).convert("RGB"))
    [honest] = model.rank([cat])
    model_id = f"{counted.model.name}:{counted.model.version}"
    key = f"user7:imagenet:{model_id}:top5:{hashlib.sha256(cat_jpeg).hexdigest()}"
    assert cache.get(key) is not None
    cache.put(key, junk)  # what anyone who can write to a shared Redis could leave there
    assert model.rank([cat]) == [honest]
    assert counted.classified == 2


def test_one_users_answers_are_not_anothers(model_path: Path, cat_jpeg: bytes) -> None:
    counted = CountingInference(model_path=model_path, threads=1)
    cache = LruCache(16)
    cat = Photo(cat_jpeg, Image.open(io.BytesIO(cat_jpeg)).convert("RGB"))
    for owner in (1, 2, 1):
        imagenet_model(inference=counted, cache=cache, owner_id=owner).rank([cat])
    assert counted.classified == 2  # the second user's photo was not answered from the first's
