"""services.jobs without a Flask app: jobs reach the queue only once committed; lost
jobs are found by their process or their silence; nothing here commits."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from mirada.db import Base, Job, User
from mirada.db.base import utcnow
from mirada.jobs.runners import current_runner, host_key
from mirada.services import jobs
from mirada.services.errors import NotFound
from tests.unit.services.jobfixtures import NotedQueue, make_project


def _jobs(session: Session) -> int:
    return session.scalar(select(func.count(Job.id))) or 0


def test_a_submitted_job_reaches_the_queue_when_its_transaction_commits(
    session: Session,
) -> None:
    project = make_project(session)
    queue = NotedQueue()
    job = jobs.submit_job(session=session, queue=queue, project=project, kind="train")
    assert job.id is not None and job.state == "queued"
    assert queue.job_ids == []  # not yet: a worker would not find it
    me = current_runner()
    assert (job.runner_host, job.runner_pid, job.runner_token) == (me.host, me.pid, me.token)
    session.commit()
    assert queue.job_ids == [job.id]
    session.commit()  # a later commit does not hand it over again
    assert queue.job_ids == [job.id]


def test_a_rolled_back_submission_never_reaches_the_queue(session: Session) -> None:
    project = make_project(session)
    queue = NotedQueue()
    jobs.submit_job(session=session, queue=queue, project=project, kind="train")
    session.rollback()
    assert _jobs(session) == 0
    session.commit()
    assert queue.job_ids == []


def test_a_second_submission_gets_the_active_job(session: Session) -> None:
    project = make_project(session)
    queue = NotedQueue(in_process=False)
    first = jobs.submit_job(session=session, queue=queue, project=project, kind="train")
    assert first.runner_pid is None  # a broker's queue: no process holds it yet
    session.commit()
    again = jobs.submit_job(session=session, queue=queue, project=project, kind="train")
    other = jobs.submit_job(session=session, queue=queue, project=project, kind="embed")
    session.commit()
    assert again.id == first.id
    assert queue.job_ids == [first.id, other.id]
    assert jobs.active_job(session=session, project=project, kind="train") == first
    assert jobs.latest_job(session=session, project=project, kind="embed") == other


def test_a_double_submit_caught_by_the_database_keeps_the_first(session: Session) -> None:
    project = make_project(session)
    queue = NotedQueue()
    first = jobs.create_job(session=session, project=project, kind="train")
    session.commit()
    original = jobs.active_job
    calls = []

    def blind(**kwargs: object) -> Job | None:  # the first look misses it, as in a race
        calls.append(kwargs)
        return None if len(calls) == 1 else original(**kwargs)  # type: ignore[arg-type]

    jobs.active_job = blind  # type: ignore[assignment]
    try:
        found = jobs.submit_job(session=session, queue=queue, project=project, kind="train")
    finally:
        jobs.active_job = original  # type: ignore[assignment]
    session.commit()
    assert found.id == first.id
    assert _jobs(session) == 1
    assert queue.job_ids == []


def test_someone_elses_job_is_not_found(session: Session) -> None:
    project = make_project(session)
    job = jobs.create_job(session=session, project=project, kind="train")
    bob = User(email="bob@example.org", password_hash="x")
    session.add(bob)
    session.flush()
    owner = session.get(User, project.user_id)
    assert owner is not None
    assert jobs.get_job(session=session, user=owner, job_id=job.id) == job
    with pytest.raises(NotFound) as refused:
        jobs.get_job(session=session, user=bob, job_id=job.id)
    assert (refused.value.code, refused.value.params) == ("job_not_found", {})


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert child.wait() == 0
    return child.pid


def test_lost_jobs_are_reaped_and_waiting_ones_left(session: Session) -> None:
    me = current_runner()
    now = utcnow()
    long_ago = now - timedelta(hours=1)
    cases = {  # name: (state, host, pid, token, heartbeat, lost?)
        "running, silent": ("running", "elsewhere/1/2", 1, "9", long_ago, True),
        "running, beating": ("running", "elsewhere/1/2", 1, "9", now, False),
        "queued, its process ended": ("queued", host_key(), _dead_pid(), "1", None, True),
        "queued in this live process": ("queued", me.host, me.pid, me.token, None, False),
        "queued elsewhere for an hour": ("queued", "elsewhere/1/2", 1, "9", None, False),
    }
    ids = {}
    for index, (name, (state, host, pid, token, beat, _lost)) in enumerate(cases.items()):
        project = make_project(session, f"u{index}@example.org", f"P{index}")
        job = jobs.create_job(session=session, project=project, kind="train")
        job.state, job.created_at, job.heartbeat_at = state, long_ago, beat
        job.runner_host, job.runner_pid, job.runner_token = host, pid, token
        ids[name] = job.id
    session.commit()

    assert jobs.reap_stalled_jobs(session=session, heartbeat_timeout=timedelta(minutes=2)) == 2
    session.rollback()  # the service did not commit: nothing was reaped
    assert session.scalar(select(func.count(Job.id)).where(Job.state == "failed")) == 0

    assert jobs.reap_stalled_jobs(session=session, heartbeat_timeout=timedelta(minutes=2)) == 2
    session.commit()
    session.expire_all()
    for name, job_id in ids.items():
        job = session.get(Job, job_id)
        assert job is not None
        lost = cases[name][-1]
        expected = ("failed", "worker_lost") if lost else (cases[name][0], "")
        assert (job.state, job.error) == expected, name


def test_a_double_submit_on_postgresql_keeps_the_first(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    Base.metadata.create_all(engine)
    try:
        with Session(engine, expire_on_commit=False) as session:
            project = make_project(session, f"{uuid.uuid4().hex}@example.org")
            first = jobs.create_job(session=session, project=project, kind="train")
            session.commit()
            with Session(engine) as racing:  # the first look misses it, as in a race
                again = jobs._insert_unless_active(
                    racing, project=project, kind="train", holder=None
                )
                fresh = jobs._insert_unless_active(
                    racing, project=project, kind="embed", holder=None
                )
                racing.commit()
            assert again is None and fresh is not None and fresh != first.id
            session.delete(session.get(User, project.user_id))
            session.commit()
    finally:
        engine.dispose()
