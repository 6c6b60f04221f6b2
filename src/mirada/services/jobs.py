"""Background jobs: create them, run them with progress and a heartbeat, notice dead ones."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mirada import runtime
from mirada.db import Job, Project, User, db
from mirada.db.base import utcnow
from mirada.db.job import FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED
from mirada.inference import InferenceUnavailable
from mirada.jobs.runners import Runner, current_runner, host_key, process_gone
from mirada.services.errors import NotFound

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
PROGRESS_INTERVAL_S = 0.5


class JobFailed(Exception):
    """A job that cannot finish, for a reason a person can be told (``code`` and ``params``)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def create_job(*, project: Project, kind: str, holder: Runner | None = None) -> Job:
    """A queued job of ``kind`` on ``project``; ``holder``: the process it waits in, if any."""
    job = Job(user_id=project.user_id, project_id=project.id, kind=kind, state=QUEUED)
    if holder is not None:
        job.runner_host, job.runner_pid, job.runner_token = holder.host, holder.pid, holder.token
    db.session.add(job)
    db.session.commit()
    return job


def active_job(*, project: Project, kind: str) -> Job | None:
    """The queued or running job of ``kind`` on ``project``, if any (dead ones reaped first)."""
    reap_stalled_jobs(
        heartbeat_timeout=timedelta(seconds=runtime.settings().job_heartbeat_timeout_s)
    )
    return db.session.scalar(
        select(Job)
        .where(Job.project_id == project.id, Job.kind == kind, Job.state.in_((QUEUED, RUNNING)))
        .order_by(Job.id.desc())
        .limit(1)
    )


def submit_job(*, project: Project, kind: str) -> Job:
    """The queued or running job of ``kind`` on ``project``, or a new one handed to the queue."""
    existing = active_job(project=project, kind=kind)
    if existing is not None:
        return existing
    queue = runtime.job_queue()
    holder = current_runner() if queue.in_process else None
    try:
        job = create_job(project=project, kind=kind, holder=holder)
    except IntegrityError:  # a double submit created it a moment ago
        db.session.rollback()
        running = active_job(project=project, kind=kind)
        assert running is not None
        return running
    queue.enqueue(job.id)
    return job


def latest_job(*, project: Project, kind: str) -> Job | None:
    """The newest job of ``kind`` on ``project``, whatever its state."""
    return db.session.scalar(
        select(Job)
        .where(Job.project_id == project.id, Job.kind == kind)
        .order_by(Job.id.desc())
        .limit(1)
    )


def get_job(*, user: User, job_id: int) -> Job:
    """One of the user's jobs; anyone else's answers NotFound."""
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.user_id == user.id))
    if job is None:
        raise NotFound("job_not_found", _l("No such job."))
    return job


def reap_stalled_jobs(*, heartbeat_timeout: timedelta) -> int:
    """Mark failed the jobs no process is running or holding any more; returns how many.

    A queued or running job whose process (on this host) has ended is lost at once. A
    running job is also lost when its heartbeat is older than ``heartbeat_timeout`` (a
    process on another host, or one that hangs). A queued job never times out: it waits
    for a worker, however busy the workers are.
    """
    now = utcnow()
    stalled = db.session.execute(
        update(Job)
        .where(Job.state == RUNNING, Job.heartbeat_at < now - heartbeat_timeout)
        .values(state=FAILED, error="worker_lost", finished_at=now)
    )
    lost = stalled.rowcount or 0
    held_here = db.session.execute(
        select(Job.id, Job.runner_pid, Job.runner_token).where(
            Job.state.in_((QUEUED, RUNNING)), Job.runner_host == host_key()
        )
    ).all()
    gone = [
        row.id
        for row in held_here
        if row.runner_pid is not None and process_gone(row.runner_pid, row.runner_token or "")
    ]
    if gone:
        ended = db.session.execute(
            update(Job)
            .where(Job.id.in_(gone), Job.state.in_((QUEUED, RUNNING)))
            .values(state=FAILED, error="worker_lost", finished_at=now)
        )
        lost += ended.rowcount or 0
    db.session.commit()
    return lost


def _runner(kind: str) -> Callable[[Job, Progress], dict[str, Any]]:
    from mirada.services import training

    runners: dict[str, Callable[[Job, Progress], dict[str, Any]]] = {
        "embed": training.run_embed_job,
        "train": training.run_train_job,
    }
    return runners[kind]


def run_job(job_id: int) -> None:
    """Run a queued job to the end, recording progress, success or the reason it failed."""
    runner = current_runner()
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == QUEUED)
        .values(
            state=RUNNING,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            runner_host=runner.host,
            runner_pid=runner.pid,
            runner_token=runner.token,
        )
    )
    db.session.commit()
    if not claimed.rowcount:
        return  # taken by another worker, or no longer queued
    job = db.session.get(Job, job_id)
    assert job is not None
    last_beat = [0.0]

    def progress(fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - last_beat[0] < PROGRESS_INTERVAL_S and fraction < 1:
            return
        last_beat[0] = now
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(progress=max(0.0, min(1.0, fraction)), stage=stage, heartbeat_at=utcnow())
        )
        db.session.commit()

    try:
        result = _runner(job.kind)(job, progress)
    except JobFailed as failure:
        db.session.rollback()
        _finish(job_id, FAILED, error=failure.code, result={"params": failure.params})
    except InferenceUnavailable as exc:
        db.session.rollback()
        log.error("Job %s (%s) needs the image model: %s", job_id, job.kind, exc)
        missing = isinstance(exc.__cause__, FileNotFoundError)
        code = "model_missing" if missing else "model_unavailable"
        _finish(job_id, FAILED, error=code, result={})
    except Exception:
        db.session.rollback()
        log.exception("Job %s (%s) failed", job_id, job.kind)
        _finish(job_id, FAILED, error="internal_error", result={})
    else:
        _finish(job_id, SUCCEEDED, error="", result=result)


def _finish(job_id: int, state: str, *, error: str, result: dict[str, Any]) -> None:
    assert state in FINISHED
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            state=state,
            error=error,
            result=result,
            progress=1.0 if state == SUCCEEDED else Job.progress,
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        )
    )
    db.session.commit()
