"""Embedding examples and training versions: the work behind the Train button."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from mirada import runtime
from mirada.db import Example, Job, ModelVersion, Project, db
from mirada.services import jobs
from mirada.services.comparisons import SameExamples, evaluation_record, same_examples
from mirada.services.errors import ServiceError
from mirada.services.images import decode_upload, decoded_batches, read_upload
from mirada.services.projects import class_counts, project_prefix
from mirada.services.versions import adopt_trained_version
from mirada.storage import BlobNotFound, BlobStore
from mirada.vision.evaluation import Issue, check_trainable, evaluate
from mirada.vision.heads import EMBEDDING_DTYPE, train_head
from mirada.vision.intake import Header

log = logging.getLogger(__name__)

EMBED_BATCH = 32
SERVING_COMPARISON = "serving_comparison"  # in a version's metrics: against the serving one


def _issues_json(issues: list[Issue]) -> list[dict[str, Any]]:
    return [{"code": i.code, "params": i.params} for i in issues]


# Embeddings


def pending_embeddings(*, project: Project) -> int:
    """How many examples of the project still wait for their embedding."""
    return (
        db.session.scalar(
            select(func.count(Example.id)).where(
                Example.project_id == project.id, Example.embedding_ready.is_(False)
            )
        )
        or 0
    )


def request_embeddings(*, project: Project) -> Job | None:
    """Queue a job that embeds the project's new examples (unless one already waits)."""
    if not pending_embeddings(project=project):
        return None
    return jobs.submit_job(project=project, kind="embed")


def _embed_pending(project_id: int, progress: jobs.Progress, start: float, end: float) -> int:
    ids = list(
        db.session.scalars(
            select(Example.id)
            .where(Example.project_id == project_id, Example.embedding_ready.is_(False))
            .order_by(Example.id)
        )
    )
    settings, blobs, inference = runtime.settings(), runtime.blobs(), runtime.inference()

    def read(example_id: int) -> Header:
        example = db.session.get(Example, example_id)
        assert example is not None
        try:
            return read_upload(blobs.get(example.image_key), settings=settings)
        except (BlobNotFound, ServiceError) as exc:
            raise jobs.JobFailed("example_unreadable", filename=example.filename) from exc

    def decode(example_id: int, header: Header) -> Image.Image:
        try:
            return decode_upload(header, settings=settings)
        except ServiceError as exc:
            example = db.session.get(Example, example_id)
            name = example.filename if example is not None else ""
            raise jobs.JobFailed("example_unreadable", filename=name) from exc

    done = 0
    batches = decoded_batches(
        ids, read, decode, max_count=EMBED_BATCH, budget=runtime.decode_budget(), timeout=None
    )
    for batch in batches:
        _store_embeddings(batch, inference.embed([image for _id, image in batch]))
        done += len(batch)
        progress(start + (end - start) * done / len(ids), "embedding")
    return len(ids)


def _store_embeddings(batch: list[tuple[int, Image.Image]], vectors: np.ndarray) -> None:
    for (example_id, _image), vector in zip(batch, vectors.astype(EMBEDDING_DTYPE), strict=True):
        example = db.session.get(Example, example_id)
        assert example is not None
        example.embedding = vector.tobytes()
        example.embedding_ready = True
    db.session.commit()


def run_embed_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """The embed job: compute the embedding of every example that lacks one."""
    return {"embedded": _embed_pending(job.project_id, progress, 0.0, 1.0)}


# Training


def training_check(*, project: Project) -> tuple[list[Issue], list[Issue]]:
    """The blocking errors and the warnings the project's examples give right now."""
    counts = class_counts(project=project)
    check = check_trainable({cls.name: counts[cls.id] for cls in project.classes})
    return check.errors, check.warnings


def start_training(*, project: Project) -> Job:
    """Queue a training run, or refuse at once when the rules block it."""
    errors, _warnings = training_check(project=project)
    if errors:
        raise ServiceError("training_blocked", issues=_issues_json(errors))
    return jobs.submit_job(project=project, kind="train")


def run_train_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """The train job: embed what is missing, evaluate honestly, train, save a version."""
    project = db.session.get(Project, job.project_id)
    assert project is not None
    _embed_pending(project.id, progress, 0.0, 0.6)
    classes = list(project.classes)
    position = {cls.id: index for index, cls in enumerate(classes)}
    # Examples added while this job embedded wait for the next run.
    rows = db.session.execute(
        select(Example.id, Example.class_id, Example.embedding)
        .where(Example.project_id == project.id, Example.embedding_ready.is_(True))
        .order_by(Example.id)
    ).all()
    counts = np.bincount([position[row.class_id] for row in rows], minlength=len(classes))
    check = check_trainable({cls.name: int(n) for cls, n in zip(classes, counts, strict=True)})
    if check.errors:
        raise jobs.JobFailed("training_blocked", issues=_issues_json(check.errors))
    warnings = check.warnings
    example_ids = [row.id for row in rows]
    embeddings = np.stack([np.frombuffer(row.embedding, dtype=EMBEDDING_DTYPE) for row in rows])
    labels = np.array([position[row.class_id] for row in rows])
    names = tuple(cls.name for cls in classes)
    progress(0.6, "evaluating")
    evaluation = evaluate(
        embeddings, labels, names, progress=lambda f: progress(0.6 + 0.3 * f, "evaluating")
    )
    progress(0.9, "training")
    head = train_head(embeddings, labels, names)
    version = _save_version(
        project=project,
        head_bytes=head.to_bytes(),
        metrics=_metrics(evaluation.to_dict(), example_ids, labels),
        classes=classes,
        labels=labels,
        warnings=_issues_json(warnings),
    )
    return training_result(project=project, version=version)


def _metrics(metrics: dict[str, Any], example_ids: list[int], labels: np.ndarray) -> dict[str, Any]:
    """The evaluation, the example id of each mistake (parallel to ``mistakes``), and the
    examples trained on and evaluated (see ``comparisons.evaluation_record``)."""
    metrics["mistake_example_ids"] = [example_ids[m["index"]] for m in metrics["mistakes"]]
    metrics.update(evaluation_record(example_ids, labels, metrics.pop("evaluated")))
    return metrics


def _save_version(
    *,
    project: Project,
    head_bytes: bytes,
    metrics: dict[str, Any],
    classes: list[Any],
    labels: np.ndarray,
    warnings: list[dict[str, Any]],
) -> ModelVersion:
    blobs = runtime.blobs()
    head_key = f"{project_prefix(project)}/heads/{uuid.uuid4().hex}"
    blobs.put(head_key, head_bytes)
    number = (
        db.session.scalar(
            select(func.max(ModelVersion.number)).where(ModelVersion.project_id == project.id)
        )
        or 0
    ) + 1
    counts = np.bincount(labels, minlength=len(classes))
    version = ModelVersion(
        project_id=project.id,
        number=number,
        head_key=head_key,
        class_names=[cls.name for cls in classes],
        class_ids=[cls.id for cls in classes],
        class_counts={cls.name: int(n) for cls, n in zip(classes, counts, strict=True)},
        example_count=len(labels),
        metrics=metrics,
        warnings=warnings,
        backbone_version=runtime.inference().model.version,
    )
    previous = project.serving_version
    try:
        db.session.add(version)
        db.session.flush()
        comparison = _compare(previous, version, blobs) if previous is not None else None
        if comparison is not None:
            version.metrics = {**metrics, SERVING_COMPARISON: comparison.to_dict()}
        adopt_trained_version(project=project, version=version)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        blobs.delete(head_key)
        raise
    return version


def _compare(
    previous: ModelVersion, version: ModelVersion, blobs: BlobStore
) -> SameExamples | None:
    """The new version against the serving one on the same examples (None: not possible)."""
    try:
        return same_examples(older=previous, newer=version, blobs=blobs)
    except BlobNotFound:
        log.warning("Version %s has lost its head file: not compared", previous.id)
        return None


def training_result(*, project: Project, version: ModelVersion) -> dict[str, Any]:
    """What a train job reports: the new version, the one that serves now and why, and how
    the new version did against the previously serving one."""
    serving = project.serving_version
    return {
        "version_id": version.id,
        "number": version.number,
        "serving_number": serving.number if serving is not None else None,
        "pinned": project.serving_pinned_at is not None,
        "comparison": (version.metrics or {}).get(SERVING_COMPARISON),
    }
