"""Background jobs: create them, run them with progress and a heartbeat, notice dead ones."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from mirada import runtime
from mirada.db import Job, Project, User, db
from mirada.db.base import utcnow
from mirada.db.job import FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED
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


def create_job(*, project: Project, kind: str) -> Job:
    """A queued job of ``kind`` on ``project``."""
    job = Job(user_id=project.user_id, project_id=project.id, kind=kind, state=QUEUED)
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
    try:
        job = create_job(project=project, kind=kind)
    except IntegrityError:  # a double submit created it a moment ago
        db.session.rollback()
        running = active_job(project=project, kind=kind)
        assert running is not None
        return running
    runtime.job_queue().enqueue(job.id)
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
    """Mark failed the jobs no worker is running any more; returns how many.

    A running job is dead when its heartbeat is older than ``heartbeat_timeout``; a
    queued one when no worker took it within that time (its process stopped first).
    """
    now = utcnow()
    stale = now - heartbeat_timeout
    result = db.session.execute(
        update(Job)
        .where(
            or_(
                and_(Job.state == RUNNING, Job.heartbeat_at < stale),
                and_(Job.state == QUEUED, Job.created_at < stale),
            )
        )
        .values(state=FAILED, error="worker_lost", finished_at=now)
    )
    db.session.commit()
    return result.rowcount or 0


def _runner(kind: str) -> Callable[[Job, Progress], dict[str, Any]]:
    from mirada.services import training

    runners: dict[str, Callable[[Job, Progress], dict[str, Any]]] = {
        "embed": training.run_embed_job,
        "train": training.run_train_job,
    }
    return runners[kind]


def run_job(job_id: int) -> None:
    """Run a queued job to the end, recording progress, success or the reason it failed."""
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == QUEUED)
        .values(state=RUNNING, started_at=utcnow(), heartbeat_at=utcnow())
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
