"""The job runner without a Flask app: a worker runs jobs through its registry of kinds,
commits for them (claim, checkpoints, end), and the queues and the reaper only call it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mirada.config import Settings
from mirada.db import Job, Project
from mirada.db.base import utcnow
from mirada.inference import InferenceUnavailable
from mirada.inference.in_process import InProcessInference
from mirada.jobs.base import JobContext, JobFailed, Resources
from mirada.jobs.inline import InlineJobQueue
from mirada.jobs.reaper import Reaper
from mirada.jobs.threads import ThreadJobQueue
from mirada.jobs.worker import Worker
from mirada.services import jobs
from mirada.storage.local import LocalBlobStore
from mirada.vision.budget import DecodeBudget
from tests.unit.services.jobfixtures import NotedQueue, make_project

SRC = Path(__file__).resolve().parents[3] / "src"


def _describe(context: JobContext, text: str) -> None:
    project = context.session.get(Project, context.project_id)
    assert project is not None
    project.description = text


def _checkpoint_then_fail(context: JobContext) -> dict[str, Any]:
    _describe(context, "kept")
    context.progress(0.5, "halfway")  # a checkpoint: committed
    _describe(context, "lost")
    raise JobFailed("example_unreadable", filename="a.png")


def _succeed(context: JobContext) -> dict[str, Any]:
    _describe(context, "done")  # committed with the job's end
    context.progress(0.2, "working")
    return {"answer": 42}


def _crash(context: JobContext) -> dict[str, Any]:
    _describe(context, "lost")
    raise RuntimeError("a bug")


def _no_model(context: JobContext) -> dict[str, Any]:
    try:
        raise FileNotFoundError("model.onnx")
    except FileNotFoundError as exc:
        raise InferenceUnavailable("no model") from exc


def _reaped_now(context: JobContext) -> None:
    """What the reaper does to a job whose worker froze past the heartbeat timeout."""
    with Session(context.session.get_bind()) as reaper:
        reaper.execute(
            update(Job).where(Job.id == context.job_id).values(state="failed", error="worker_lost")
        )
        reaper.commit()


def _reaped_while_running(context: JobContext) -> dict[str, Any]:
    _describe(context, "kept")
    context.progress(0.3, "embedding")  # a checkpoint: committed
    _reaped_now(context)
    _describe(context, "lost")
    context.progress(0.6, "embedding")  # the job is no longer ours: it stops here
    raise AssertionError("a reaped job went on")


def _reaped_before_its_end(context: JobContext) -> dict[str, Any]:
    _reaped_now(context)
    _describe(context, "lost")
    return {"answer": 42}


REGISTRY = {
    "reaped": _reaped_while_running,
    "reaped_at_end": _reaped_before_its_end,
    "ok": _succeed,
    "fails": _checkpoint_then_fail,
    "crash": _crash,
    "model": _no_model,
}


@pytest.fixture()
def worker(engine: Engine, service_settings: Settings, blobs: LocalBlobStore) -> Worker:
    """A worker whose jobs each get a session of their own on the test's database."""
    sessions = sessionmaker(engine)

    @contextmanager
    def scope() -> Iterator[Resources]:
        with sessions() as session:
            yield Resources(
                session=session,
                settings=service_settings,
                blobs=blobs,
                inference=InProcessInference(model_path=service_settings.resolved_model_path),
                budget=DecodeBudget(100_000_000),
            )

    return Worker(registry=REGISTRY, scope=scope, reap=jobs.reap_stalled_jobs)


def _queued(session: Session, kind: str, name: str = "Digits") -> int:
    project = make_project(session, f"{name}@example.org", name)
    job = jobs.submit_job(session=session, queue=NotedQueue(), project=project, kind=kind)
    session.commit()
    return job.id


def _outcome(session: Session, job_id: int) -> tuple[str, str, Any, str]:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    project = session.get(Project, job.project_id)
    assert project is not None
    return job.state, job.error, job.result, project.description


def test_a_job_succeeds_with_its_last_writes(session: Session, worker: Worker) -> None:
    job_id = _queued(session, "ok")
    seen: list[tuple[float, str]] = []
    worker.run(job_id, observe=lambda fraction, stage: seen.append((fraction, stage)))
    assert _outcome(session, job_id) == ("succeeded", "", {"answer": 42}, "done")
    assert seen == [(0.2, "working")]
    job = session.get(Job, job_id)
    assert job is not None and job.progress == 1.0 and job.finished_at is not None
    assert job.runner_pid == os.getpid()


def test_a_failed_job_keeps_its_checkpoints_and_says_why(session: Session, worker: Worker) -> None:
    job_id = _queued(session, "fails")
    worker.run(job_id)
    state, error, result, description = _outcome(session, job_id)
    assert (state, error) == ("failed", "example_unreadable")
    assert result == {"params": {"filename": "a.png"}}
    assert description == "kept"
    job = session.get(Job, job_id)
    assert job is not None and (job.progress, job.stage) == (0.5, "halfway")


@pytest.mark.parametrize(
    ("kind", "code"), [("crash", "internal_error"), ("model", "model_missing")]
)
def test_a_crash_is_recorded_and_rolled_back(
    session: Session, worker: Worker, kind: str, code: str
) -> None:
    job_id = _queued(session, kind)
    worker.run(job_id)
    assert _outcome(session, job_id) == ("failed", code, {}, "")


@pytest.mark.parametrize(("kind", "description"), [("reaped", "kept"), ("reaped_at_end", "")])
def test_a_job_reaped_while_it_ran_stops_and_keeps_the_reapers_verdict(
    session: Session, worker: Worker, kind: str, description: str
) -> None:
    """A worker frozen past the heartbeat timeout (SIGSTOP, swapping) wakes up to a job the
    reaper marked lost: it neither goes on writing nor turns the job into a success."""
    job_id = _queued(session, kind)
    worker.run(job_id)
    assert _outcome(session, job_id) == ("failed", "worker_lost", {}, description)


def test_a_job_no_longer_queued_is_not_run(session: Session, worker: Worker) -> None:
    job_id = _queued(session, "ok")
    job = session.get(Job, job_id)
    assert job is not None
    job.state = "running"  # another worker claimed it
    session.commit()
    worker.run(job_id)
    assert _outcome(session, job_id) == ("running", "", {}, "")


def test_the_thread_queue_and_the_inline_queue_run_jobs_through_the_worker(
    session: Session, worker: Worker
) -> None:
    threads = ThreadJobQueue(run=worker.run, workers=1)
    first = _queued(session, "ok", "First")
    threads.enqueue(first)
    threads._executor().submit(lambda: None).result(timeout=30)  # the pool is idle again
    assert _outcome(session, first)[0] == "succeeded"

    inline = InlineJobQueue(run=worker.run)
    project = make_project(session, "second@example.org", "Second")
    job = jobs.submit_job(session=session, queue=inline, project=project, kind="fails")
    assert inline.job_ids == []
    session.commit()
    assert inline.job_ids == [job.id]
    inline.run(job.id)
    assert _outcome(session, job.id)[:2] == ("failed", "example_unreadable")


def test_the_reaper_reaps_on_its_schedule_and_ends_with_its_worker(
    session: Session, worker: Worker
) -> None:
    job_id = _queued(session, "ok")
    job = session.get(Job, job_id)
    assert job is not None
    job.state, job.heartbeat_at = "running", utcnow() - timedelta(hours=1)
    session.commit()
    mine = Worker(registry=REGISTRY, scope=worker._scope, reap=jobs.reap_stalled_jobs)
    reaper = Reaper(mine.reap, interval_s=0.05)
    reaper.start()
    deadline = time.monotonic() + 10
    while _outcome(session, job_id)[0] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _outcome(session, job_id)[:2] == ("failed", "worker_lost")
    thread = reaper._thread
    assert thread is not None and thread.is_alive()
    del mine
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()  # its worker (and app) gone, it ends by itself


def test_a_stopped_reaper_ends(worker: Worker) -> None:
    calls = threading.Event()

    class Counting:
        def reap(self) -> int:
            calls.set()
            return 0

    counting = Counting()
    reaper = Reaper(counting.reap, interval_s=0.01)
    reaper.start()
    assert calls.wait(5)
    reaper.stop()
    assert reaper._thread is not None
    reaper._thread.join(5)
    assert not reaper._thread.is_alive()


def test_the_job_runner_does_not_import_the_business_code() -> None:
    code = (
        "import sys, mirada.jobs, mirada.jobs.worker, mirada.jobs.threads, mirada.jobs.inline,"
        " mirada.jobs.reaper; "
        "print(sorted(m for m in sys.modules"
        " if m.startswith(('mirada.services', 'mirada.runtime', 'mirada.web'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"


def test_the_registry_knows_the_job_kinds() -> None:
    from mirada import runtime

    assert set(runtime.job_kinds()) == {"embed", "train"}
