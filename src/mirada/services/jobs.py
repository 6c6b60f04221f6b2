"""Background jobs: create them, hand them to the queue, find them, notice lost ones.

Running a job (claim, progress, end) is the job runner's work: ``mirada.jobs.worker``.
A submitted job reaches the queue only when the transaction that created it commits, so
that no worker looks for a job that is not there yet, or never will be.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import event, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from mirada.db import Job, Project, User
from mirada.db.base import utcnow
from mirada.db.job import ACTIVE_CONDITION, FAILED, QUEUED, RUNNING
from mirada.jobs.base import JobQueue
from mirada.jobs.runners import Runner, current_runner, host_key, process_gone
from mirada.services.errors import NotFound

AFTER_COMMIT = "mirada.after_commit"  # in ``Session.info``: what to do once it commits


def create_job(
    *, session: Session, project: Project, kind: str, holder: Runner | None = None
) -> Job:
    """A queued job of ``kind`` on ``project``; ``holder``: the process it waits in, if any."""
    job = Job(user_id=project.user_id, project_id=project.id, kind=kind, state=QUEUED)
    if holder is not None:
        job.runner_host, job.runner_pid, job.runner_token = holder.host, holder.pid, holder.token
    session.add(job)
    session.flush()
    return job


def active_job(*, session: Session, project: Project, kind: str) -> Job | None:
    """The queued or running job of ``kind`` on ``project``, if any."""
    return session.scalar(
        select(Job)
        .where(Job.project_id == project.id, Job.kind == kind, Job.state.in_((QUEUED, RUNNING)))
        .order_by(Job.id.desc())
        .limit(1)
    )


def submit_job(*, session: Session, queue: JobQueue, project: Project, kind: str) -> Job:
    """The queued or running job of ``kind`` on ``project``, or a new one for the queue.

    The new job is handed to ``queue`` when the session's transaction commits.
    """
    existing = active_job(session=session, project=project, kind=kind)
    if existing is not None:
        return existing
    holder = current_runner() if queue.in_process else None
    job_id = _insert_unless_active(session, project=project, kind=kind, holder=holder)
    if job_id is None:  # a double submit created it a moment ago
        running = active_job(session=session, project=project, kind=kind)
        assert running is not None
        return running
    after_commit(session, lambda: queue.enqueue(job_id))
    job = session.get(Job, job_id)
    assert job is not None
    return job


def _insert_unless_active(
    session: Session, *, project: Project, kind: str, holder: Runner | None
) -> int | None:
    """The id of a new queued job, or None when the one active job of its kind exists.

    The database's unique index decides (``INSERT ... ON CONFLICT DO NOTHING``): no
    error, so no savepoint, whose release would commit on SQLite's Python driver.
    """
    values = {
        "user_id": project.user_id,
        "project_id": project.id,
        "kind": kind,
        "state": QUEUED,
        "runner_host": holder.host if holder else None,
        "runner_pid": holder.pid if holder else None,
        "runner_token": holder.token if holder else None,
    }
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # any other: a savepoint
        try:
            with session.begin_nested():
                return create_job(session=session, project=project, kind=kind, holder=holder).id
        except IntegrityError:
            return None
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Job)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["project_id", "kind"], index_where=text(ACTIVE_CONDITION)
        )
        .returning(Job.id)
    )
    return session.scalar(statement)


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Do ``action`` once the session's current transaction commits; never if it rolls back."""
    if AFTER_COMMIT not in session.info:
        session.info[AFTER_COMMIT] = []
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)
    session.info[AFTER_COMMIT].append(action)


def _committed(session: Session) -> None:
    actions, session.info[AFTER_COMMIT] = session.info[AFTER_COMMIT], []
    for action in actions:
        action()


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: rolled back if anything is left
        session.info[AFTER_COMMIT] = []


def latest_job(*, session: Session, project: Project, kind: str) -> Job | None:
    """The newest job of ``kind`` on ``project``, whatever its state."""
    return session.scalar(
        select(Job)
        .where(Job.project_id == project.id, Job.kind == kind)
        .order_by(Job.id.desc())
        .limit(1)
    )


def get_job(*, session: Session, user: User, job_id: int) -> Job:
    """One of the user's jobs; anyone else's answers NotFound."""
    job = session.scalar(select(Job).where(Job.id == job_id, Job.user_id == user.id))
    if job is None:
        raise NotFound("job_not_found")
    return job


def reap_stalled_jobs(
    *, session: Session, heartbeat_timeout: timedelta, now: datetime | None = None
) -> int:
    """Mark failed the jobs no process is running or holding any more; returns how many.

    A queued or running job whose process (on this host) has ended is lost at once. A
    running job is also lost when its heartbeat is older than ``heartbeat_timeout`` (a
    process on another host, or one that hangs). A queued job never times out: it waits
    for a worker, however busy the workers are.
    """
    now = now or utcnow()
    stalled = session.execute(
        update(Job)
        .where(Job.state == RUNNING, Job.heartbeat_at < now - heartbeat_timeout)
        .values(state=FAILED, error="worker_lost", finished_at=now)
    )
    lost = getattr(stalled, "rowcount", 0) or 0
    held_here = session.execute(
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
        ended = session.execute(
            update(Job)
            .where(Job.id.in_(gone), Job.state.in_((QUEUED, RUNNING)))
            .values(state=FAILED, error="worker_lost", finished_at=now)
        )
        lost += getattr(ended, "rowcount", 0) or 0
    return lost
