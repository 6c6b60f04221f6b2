"""The door for jobs: run one queued job by its id, through the registry of job kinds.

The worker claims the job, gives its function a ``JobContext`` and commits for it: the
claim, each progress checkpoint (with a heartbeat), and the end, success or failure, in
one transaction with what the job wrote last. Every write is conditional on the job
still being this worker's: a job reaped meanwhile (its process was frozen past the
heartbeat timeout) stops at its next checkpoint and keeps the state the reaper gave it.
Every queue adapter (threads in the app, the command line's inline runner, later
Celery) runs jobs through a worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mirada.db import Job
from mirada.db.base import utcnow
from mirada.db.job import FAILED, FINISHED, QUEUED, RUNNING, SUCCEEDED
from mirada.inference import InferenceUnavailable
from mirada.jobs.base import JobContext, JobFailed, Progress, Registry, Resources
from mirada.jobs.runners import current_runner

log = logging.getLogger(__name__)

FINISH_RETRIES_S = (1, 2, 4, 8, 16)  # waits before saving a failure again (database away)

Scope = Callable[[], AbstractContextManager[Resources]]
Reap = Callable[..., int]


class JobLost(Exception):
    """The job's row is no longer this worker's: it was reaped (or its claim was lost)."""


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
            claim = _claim(session, job_id)
            if claim is None:
                return  # taken by another worker, or no longer queued
            context = JobContext(
                job_id=job_id,
                project_id=claim.project_id,
                kind=claim.kind,
                resources=resources,
                progress=_checkpoints(session, claim, observe),
            )
            try:
                state, error, result = self._outcome(context)
                _finish(session, claim, state, error=error, result=result)
            except JobLost:
                session.rollback()
                log.warning("Job %s (%s) was reaped while it ran: stopped", job_id, claim.kind)
            except Exception:  # its last writes cannot be committed: the job failed
                session.rollback()
                log.exception("Job %s (%s) could not be saved", job_id, claim.kind)
                _finish_failed(session, claim)

    def _outcome(self, context: JobContext) -> tuple[str, str, dict[str, Any]]:
        session = context.session
        try:
            result = self.registry[context.kind](context)
        except JobLost:
            raise
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


@dataclass(frozen=True)
class Claim:
    """A job this worker claimed: its row is ours while it is running with our token."""

    job_id: int
    project_id: int
    kind: str
    token: str


def _claim(session: Session, job_id: int) -> Claim | None:
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
    job = session.get(Job, job_id)
    assert job is not None
    return Claim(job_id=job_id, project_id=job.project_id, kind=job.kind, token=runner.token)


def _ours(claim: Claim) -> Any:
    """The condition under which the job's row is still this worker's to write."""
    return and_(Job.id == claim.job_id, Job.state == RUNNING, Job.runner_token == claim.token)


def _checkpoints(session: Session, claim: Claim, observe: Progress | None) -> Progress:
    """The job's ``progress``: beat, and commit its work so far while the job is still ours
    (else JobLost, and its work since the last checkpoint is dropped)."""

    def progress(fraction: float, stage: str) -> None:
        beat = session.execute(
            update(Job)
            .where(_ours(claim))
            .values(progress=max(0.0, min(1.0, fraction)), stage=stage, heartbeat_at=utcnow())
        )
        if not getattr(beat, "rowcount", 0):
            raise JobLost(claim.job_id)
        session.commit()
        if observe is not None:
            observe(fraction, stage)

    return progress


def _finish(
    session: Session, claim: Claim, state: str, *, error: str, result: dict[str, Any]
) -> None:
    """Record the end with what the job wrote last, if the job is still ours."""
    assert state in FINISHED
    ended = session.execute(
        update(Job)
        .where(_ours(claim))
        .values(
            state=state,
            error=error,
            result=result,
            progress=1.0 if state == SUCCEEDED else Job.progress,
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        )
    )
    if not getattr(ended, "rowcount", 0):
        raise JobLost(claim.job_id)
    session.commit()


def _finish_failed(session: Session, claim: Claim) -> None:
    """Record an internal failure, waiting a while for a database that went away, so that
    the job does not read as running until the reaper calls its worker lost."""
    for wait_s in (0, *FINISH_RETRIES_S):
        time.sleep(wait_s)
        try:
            _finish(session, claim, FAILED, error="internal_error", result={})
            return
        except JobLost:
            session.rollback()
            return
        except DBAPIError:
            session.rollback()
            log.warning("Job %s: the database is away; saving its failure again", claim.job_id)
    log.error("Job %s: its failure could not be saved; the reaper will mark it", claim.job_id)
