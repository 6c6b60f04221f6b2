"""services.training without a Flask app: the rules refuse before anything is written,
and a train job run by the worker embeds real scans, evaluates and saves a version."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mirada import runtime
from mirada.config import Settings
from mirada.db import Example, Job, ModelVersion, Project, ProjectClass
from mirada.inference.in_process import InProcessInference
from mirada.jobs.base import Resources
from mirada.jobs.worker import Worker
from mirada.services import jobs, training
from mirada.services.errors import ServiceError
from mirada.services.projects import project_prefix
from mirada.storage.local import LocalBlobStore
from mirada.vision.budget import DecodeBudget
from tests.support.projects import digit_pngs
from tests.unit.services.jobfixtures import NotedQueue, make_project


def _fill(session: Session, blobs: LocalBlobStore, project: Project, per_class: int) -> None:
    """Classes "zero" and "one" with ``per_class`` real scans each, not embedded yet."""
    for digit, name in ((0, "zero"), (1, "one")):
        cls = ProjectClass(project_id=project.id, name=name)
        session.add(cls)
        session.flush()
        for index, png in enumerate(digit_pngs(digit, per_class)):
            key = f"test/{name}-{index}.png"
            blobs.put(key, png)
            session.add(
                Example(
                    project_id=project.id,
                    class_id=cls.id,
                    filename=f"{name}-{index}.png",
                    content_type="image/png",
                    sha256=hashlib.sha256(png).hexdigest(),
                    image_key=key,
                    thumbnail_key=key,
                )
            )
    session.commit()


@pytest.fixture()
def worker(
    engine: Engine, service_settings: Settings, blobs: LocalBlobStore, model_path: Path
) -> Worker:
    """The app's registry of job kinds, run on the test's database, no app."""
    sessions = sessionmaker(engine)
    inference = InProcessInference(model_path=model_path)

    @contextmanager
    def scope() -> Iterator[Resources]:
        with sessions() as session:
            yield Resources(
                session=session,
                settings=service_settings,
                blobs=blobs,
                inference=inference,
                budget=DecodeBudget(200_000_000),
            )

    return Worker(registry=runtime.job_kinds(), scope=scope, reap=jobs.reap_stalled_jobs)


def test_training_is_refused_before_anything_is_written(
    session: Session, blobs: LocalBlobStore
) -> None:
    project = make_project(session)
    _fill(session, blobs, project, per_class=3)
    queue = NotedQueue()
    with pytest.raises(ServiceError) as refused:
        training.start_training(session=session, queue=queue, project=project)
    assert refused.value.code == "training_blocked"
    issues = refused.value.params["issues"]
    assert [issue["code"] for issue in issues] == ["too_few_examples"]
    assert sorted(issues[0]["params"]["classes"]) == ["one", "zero"]
    assert not session.new and not session.dirty
    session.commit()
    assert session.scalar(select(func.count(Job.id))) == 0
    assert queue.job_ids == []


def test_embeddings_are_requested_only_while_examples_wait(
    session: Session, blobs: LocalBlobStore
) -> None:
    project = make_project(session)
    queue = NotedQueue()
    assert training.request_embeddings(session=session, queue=queue, project=project) is None
    _fill(session, blobs, project, per_class=2)
    assert training.pending_embeddings(session=session, project=project) == 4
    job = training.request_embeddings(session=session, queue=queue, project=project)
    assert job is not None and job.kind == "embed"
    session.commit()
    assert queue.job_ids == [job.id]


def test_a_train_job_saves_a_version_that_serves(
    session: Session, blobs: LocalBlobStore, worker: Worker
) -> None:
    project = make_project(session)
    _fill(session, blobs, project, per_class=6)
    queue = NotedQueue()
    errors, warnings = training.training_check(session=session, project=project)
    assert errors == [] and [w.code for w in warnings] == ["few_examples"]
    for number in (1, 2):
        job = training.start_training(session=session, queue=queue, project=project)
        session.commit()
        worker.run(queue.job_ids[-1])
        session.expire_all()
        job = session.get(Job, job.id)
        assert job is not None
        assert (job.state, job.error) == ("succeeded", ""), job.result
        version = session.get(ModelVersion, job.result["version_id"])
        assert version is not None and version.number == number
        assert job.result["serving_number"] == number  # the newest serves
        assert blobs.get(version.head_key)
    assert version.example_count == 12
    assert (version.metrics or {}).get(training.SERVING_COMPARISON) is not None
    assert [w["code"] for w in version.warnings] == ["few_examples"]
    assert training.pending_embeddings(session=session, project=project) == 0
    session.refresh(project)
    assert project.serving_version_id == version.id


def test_training_embeds_again_what_another_backbone_embedded(
    session: Session, blobs: LocalBlobStore, worker: Worker, model_path: Path
) -> None:
    project = make_project(session)
    _fill(session, blobs, project, per_class=5)
    stale = bytes(4 * 1280)  # what another backbone's numbers look like to this one's head
    for example in session.scalars(select(Example)):
        example.embedding, example.embedding_backbone = stale, "another-one"
    session.commit()
    assert training.pending_embeddings(session=session, project=project) == 0  # none is new
    queue = NotedQueue()
    job = training.start_training(session=session, queue=queue, project=project)
    session.commit()
    worker.run(job.id)
    session.expire_all()
    done = session.get(Job, job.id)
    assert done is not None and (done.state, done.error) == ("succeeded", ""), done.result
    current = InProcessInference(model_path=model_path).model.version
    examples = list(session.scalars(select(Example)))
    assert {example.embedding_backbone for example in examples} == {current}
    assert all(example.embedding != stale for example in examples)
    version = session.get(ModelVersion, done.result["version_id"])
    assert version is not None and version.backbone_version == current
    assert version.example_count == 10


def test_a_train_job_with_an_unreadable_example_fails_and_leaves_no_version(
    session: Session, blobs: LocalBlobStore, worker: Worker
) -> None:
    project = make_project(session)
    _fill(session, blobs, project, per_class=5)
    lost = session.scalar(select(Example).order_by(Example.id.desc()).limit(1))
    assert lost is not None
    blobs.delete(lost.image_key)
    queue = NotedQueue()
    job = training.start_training(session=session, queue=queue, project=project)
    session.commit()
    worker.run(job.id)
    session.expire_all()
    failed = session.get(Job, job.id)
    assert failed is not None
    assert (failed.state, failed.error) == ("failed", "example_unreadable")
    assert failed.result == {"params": {"filename": lost.filename}}
    assert session.scalar(select(func.count(ModelVersion.id))) == 0


def test_a_version_that_cannot_be_saved_leaves_no_head_file(
    session: Session, blobs: LocalBlobStore, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(session)
    _fill(session, blobs, project, per_class=5)

    def lost_database(**_kwargs: object) -> bool:
        raise RuntimeError("the database went away")  # after the head file is written

    monkeypatch.setattr(training, "adopt_trained_version", lost_database)
    queue = NotedQueue()
    job = training.start_training(session=session, queue=queue, project=project)
    session.commit()
    worker.run(job.id)
    session.expire_all()
    failed = session.get(Job, job.id)
    assert failed is not None and (failed.state, failed.error) == ("failed", "internal_error")
    assert session.scalar(select(func.count(ModelVersion.id))) == 0
    heads = f"{project_prefix(project)}/heads"
    assert list(blobs.keys(heads, written_before=datetime(9999, 1, 1, tzinfo=UTC))) == []
    assert training.pending_embeddings(session=session, project=project) == 0  # checkpointed
