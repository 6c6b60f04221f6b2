"""The door for jobs: run one queued job by its id, through the registry of job kinds.

The worker claims the job, gives its function a ``JobContext`` and commits for it: the
claim, each progress checkpoint (with a heartbeat), and the end, success or failure, in
one transaction with what the job wrote last. Every queue adapter (threads in the app,
the command line's inline runner, later Celery) runs jobs through a worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from mirada.db import Job
from mirada.db.base import utcnow
from mirada.db.job import FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED
from mirada.inference import InferenceUnavailable
from mirada.jobs.base import JobContext, JobFailed, Progress, Registry, Resources
from mirada.jobs.runners import current_runner

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.5  # the least time between two heartbeats

Scope = Callable[[], AbstractContextManager[Resources]]
Reap = Callable[..., int]


class Worker:
    """Runs jobs by id. ``scope`` opens what one job uses (a session and the adapters);
    ``reap`` marks lost jobs failed (``services.jobs.reap_stalled_jobs``)."""

    def __init__(self, *, registry: Registry, scope: Scope, reap: Reap) -> None:
        self.registry = dict(registry)
        self._scope = scope
        self._reap = reap

    def run(self, job_id: int, *, observe: Progress | None = None) -> None:
        """Run a queued job to the end, recording progress, success or why it failed;
        ``observe`` is told the progress too (a progress bar)."""
        with self._scope() as resources:
            session = resources.session
            job = _claim(session, job_id)
            if job is None:
                return  # taken by another worker, or no longer queued
            context = JobContext(
                job_id=job_id,
                project_id=job.project_id,
                kind=job.kind,
                resources=resources,
                progress=_checkpoints(session, job_id, observe),
            )
            state, error, result = self._outcome(context)
            try:
                _finish(session, job_id, state, error=error, result=result)
            except Exception:  # its last writes cannot be committed: the job failed
                session.rollback()
                log.exception("Job %s (%s) could not be saved", job_id, context.kind)
                _finish(session, job_id, FAILED, error="internal_error", result={})

    def _outcome(self, context: JobContext) -> tuple[str, str, dict[str, Any]]:
        session = context.session
        try:
            result = self.registry[context.kind](context)
        except JobFailed as failure:
            session.rollback()
            return FAILED, failure.code, {"params": failure.params}
        except InferenceUnavailable as exc:
            session.rollback()
            log.error("Job %s (%s) needs the image model: %s", context.job_id, context.kind, exc)
            missing = isinstance(exc.__cause__, FileNotFoundError)
            return FAILED, "model_missing" if missing else "model_unavailable", {}
        except Exception:
            session.rollback()
            log.exception("Job %s (%s) failed", context.job_id, context.kind)
            return FAILED, "internal_error", {}
        return SUCCEEDED, "", result

    def reap(self) -> int:
        """Mark failed the jobs whose process is gone or silent; returns how many."""
        with self._scope() as resources:
            timeout = timedelta(seconds=resources.settings.job_heartbeat_timeout_s)
            lost = self._reap(session=resources.session, heartbeat_timeout=timeout)
            resources.session.commit()
        return lost


def _claim(session: Session, job_id: int) -> Job | None:
    runner = current_runner()
    claimed = session.execute(
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
    session.commit()
    if not getattr(claimed, "rowcount", 0):
        return None
    return session.get(Job, job_id)


def _checkpoints(session: Session, job_id: int, observe: Progress | None) -> Progress:
    """The job's ``progress``: commit its work so far, beat at most every interval."""
    last_beat = [0.0]

    def progress(fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - last_beat[0] >= PROGRESS_INTERVAL_S or fraction >= 1:
            last_beat[0] = now
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(progress=max(0.0, min(1.0, fraction)), stage=stage, heartbeat_at=utcnow())
            )
        session.commit()
        if observe is not None:
            observe(fraction, stage)

    return progress


def _finish(
    session: Session, job_id: int, state: str, *, error: str, result: dict[str, Any]
) -> None:
    assert state in FINISHED
    session.execute(
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
    session.commit()
