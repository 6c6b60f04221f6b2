"""Embedding examples and training versions: the work behind the Train button.

``run_embed_job`` and ``run_train_job`` are job functions: the job runner calls them
with a ``JobContext`` and commits for them (see ``mirada.jobs.worker``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from mirada.db import Example, Job, ModelVersion, Project
from mirada.jobs.base import JobContext, JobFailed, JobQueue
from mirada.services.comparisons import SameExamples, evaluation_record, same_examples
from mirada.services.errors import ServiceError
from mirada.services.images import decode_upload, decoded_batches, read_upload
from mirada.services.jobs import submit_job
from mirada.services.projects import class_counts, project_prefix
from mirada.services.versions import adopt_trained_version
from mirada.storage import BlobNotFound, BlobStore
from mirada.vision.evaluation import Issue, check_trainable, evaluate
from mirada.vision.heads import EMBEDDING_DTYPE, train_head
from mirada.vision.intake import Header

log = logging.getLogger(__name__)

EMBED_BATCH = 32
SERVING_COMPARISON = "serving_comparison"  # in a version's metrics: against the serving one


def _issue_records(issues: list[Issue]) -> list[dict[str, Any]]:
    """Issues as stored on a job or a version: code and parameters, no words."""
    return [{"code": i.code, "params": i.params} for i in issues]


def pending_embeddings(*, session: Session, project: Project) -> int:
    """How many examples of the project still wait for their first embedding."""
    return (
        session.scalar(
            select(func.count(Example.id)).where(
                Example.project_id == project.id, _needs_embedding(None)
            )
        )
        or 0
    )


def _needs_embedding(backbone: str | None) -> ColumnElement[bool]:
    """Examples without an embedding; given ``backbone``, also those made by another one."""
    missing = Example.embedding_backbone.is_(None)
    return missing if backbone is None else or_(missing, Example.embedding_backbone != backbone)


def request_embeddings(*, session: Session, queue: JobQueue, project: Project) -> Job | None:
    """Queue a job that embeds the project's new examples (unless one already waits)."""
    if not pending_embeddings(session=session, project=project):
        return None
    return submit_job(session=session, queue=queue, project=project, kind="embed")


def _embed_pending(
    context: JobContext, start: float, end: float, *, backbone: str | None = None
) -> int:
    """Embed the project's examples that have no embedding (and, given ``backbone``, those
    another backbone made), reporting progress from ``start`` to ``end``."""
    session, settings, blobs = context.session, context.settings, context.blobs
    ids = list(
        session.scalars(
            select(Example.id)
            .where(Example.project_id == context.project_id, _needs_embedding(backbone))
            .order_by(Example.id)
        )
    )

    def unreadable(example_id: int) -> JobFailed:
        example = session.get(Example, example_id)
        return JobFailed("example_unreadable", filename=example.filename if example else "")

    def read(example_id: int) -> Header:
        example = session.get(Example, example_id)
        assert example is not None
        try:
            return read_upload(blobs.get(example.image_key), settings=settings)
        except (BlobNotFound, ServiceError) as exc:
            raise unreadable(example_id) from exc

    def decode(example_id: int, header: Header) -> Image.Image:
        try:
            return decode_upload(header, settings=settings)
        except ServiceError as exc:
            raise unreadable(example_id) from exc

    done = 0
    batches = decoded_batches(
        ids, read, decode, max_count=EMBED_BATCH, budget=context.budget, timeout=None
    )
    made_by = backbone or context.inference.model.version
    for batch in batches:
        vectors = context.inference.embed([image for _id, image in batch], version=made_by)
        _store_embeddings(session, batch, vectors, backbone=made_by)
        done += len(batch)
        context.progress(start + (end - start) * done / len(ids), "embedding")  # a checkpoint
    return len(ids)


def _store_embeddings(
    session: Session, batch: list[tuple[int, Image.Image]], vectors: np.ndarray, *, backbone: str
) -> None:
    for (example_id, _image), vector in zip(batch, vectors.astype(EMBEDDING_DTYPE), strict=True):
        example = session.get(Example, example_id)
        assert example is not None
        example.embedding = vector.tobytes()
        example.embedding_backbone = backbone
    session.flush()


def run_embed_job(context: JobContext) -> dict[str, Any]:
    """The embed job: compute the embedding of every example that lacks one."""
    return {"embedded": _embed_pending(context, 0.0, 1.0)}


# Training


def training_check(*, session: Session, project: Project) -> tuple[list[Issue], list[Issue]]:
    """The blocking errors and the warnings the project's examples give right now."""
    counts = class_counts(session=session, project=project)
    check = check_trainable({cls.name: counts[cls.id] for cls in project.classes})
    return check.errors, check.warnings


def start_training(*, session: Session, queue: JobQueue, project: Project) -> Job:
    """Queue a training run, or refuse at once when the rules block it."""
    errors, _warnings = training_check(session=session, project=project)
    if errors:
        raise ServiceError("training_blocked", issues=_issue_records(errors))
    return submit_job(session=session, queue=queue, project=project, kind="train")


def run_train_job(context: JobContext) -> dict[str, Any]:
    """The train job: embed what is missing or was embedded by another backbone, evaluate
    honestly, train, save a version."""
    session = context.session
    project = session.get(Project, context.project_id)
    assert project is not None
    backbone = context.inference.model.version
    _embed_pending(context, 0.0, 0.6, backbone=backbone)
    classes = list(project.classes)
    position = {cls.id: index for index, cls in enumerate(classes)}
    # Examples added while this job embedded wait for the next run.
    rows = session.execute(
        select(Example.id, Example.class_id, Example.embedding)
        .where(Example.project_id == project.id, Example.embedding_backbone == backbone)
        .order_by(Example.id)
    ).all()
    counts = np.bincount([position[row.class_id] for row in rows], minlength=len(classes))
    check = check_trainable({cls.name: int(n) for cls, n in zip(classes, counts, strict=True)})
    if check.errors:
        raise JobFailed("training_blocked", issues=_issue_records(check.errors))
    example_ids = [row.id for row in rows]
    embeddings = np.stack([np.frombuffer(row.embedding, dtype=EMBEDDING_DTYPE) for row in rows])
    labels = np.array([position[row.class_id] for row in rows])
    names = tuple(cls.name for cls in classes)
    progress = context.progress
    progress(0.6, "evaluating")
    evaluation = evaluate(
        embeddings, labels, names, progress=lambda f: progress(0.6 + 0.3 * f, "evaluating")
    )
    progress(0.9, "training")
    head = train_head(embeddings, labels, names)
    version = _save_version(
        session=session,
        blobs=context.blobs,
        backbone=backbone,
        project=project,
        head_bytes=head.to_bytes(),
        metrics=_metrics(evaluation.to_dict(), example_ids, labels),
        classes=classes,
        labels=labels,
        warnings=_issue_records(check.warnings),
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
    session: Session,
    blobs: BlobStore,
    backbone: str,
    project: Project,
    head_bytes: bytes,
    metrics: dict[str, Any],
    classes: list[Any],
    labels: np.ndarray,
    warnings: list[dict[str, Any]],
) -> ModelVersion:
    """The new version, written (its head file first, so that a row never lacks its file;
    a file whose row is never committed is swept by ``services.orphans``)."""
    head_key = f"{project_prefix(project)}/heads/{uuid.uuid4().hex}"
    blobs.put(head_key, head_bytes)
    counts = np.bincount(labels, minlength=len(classes))
    previous = project.serving_version
    try:
        number = (
            session.scalar(
                select(func.max(ModelVersion.number)).where(ModelVersion.project_id == project.id)
            )
            or 0
        ) + 1
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
            backbone_version=backbone,
        )
        session.add(version)
        session.flush()
        comparison = _compare(session, previous, version, blobs) if previous is not None else None
        if comparison is not None:
            version.metrics = {**metrics, SERVING_COMPARISON: comparison.to_dict()}
        adopt_trained_version(project=project, version=version)
        session.flush()
        session.expire(project, ["serving_version"])  # set by its id: load it again
    except BaseException:
        blobs.delete(head_key)
        raise
    return version


def _compare(
    session: Session, previous: ModelVersion, version: ModelVersion, blobs: BlobStore
) -> SameExamples | None:
    """The new version against the serving one on the same examples (None: not possible)."""
    try:
        return same_examples(session=session, older=previous, newer=version, blobs=blobs)
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
