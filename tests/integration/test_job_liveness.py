"""Lost jobs and waiting jobs: a job is lost when the process holding it is gone (at once)
or, while running, when it stops beating; a job waiting for a busy worker waits."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from mirada.db import Example, Job, Project, User
from mirada.db.app_session import db
from mirada.db.base import utcnow
from mirada.jobs.reaper import Reaper
from mirada.jobs.runners import current_runner, host_key
from mirada.services import jobs
from tests.support.projects import JSON, Browser, digit_pngs, wait_for_jobs

HEARTBEAT_TIMEOUT_S = 1
WAITED_S = 3 * HEARTBEAT_TIMEOUT_S


@pytest.fixture
def short_heartbeat(app: Flask) -> Flask:
    """The app with a heartbeat timeout of one second."""
    settings = app.extensions["mirada.settings"]
    app.extensions["mirada.settings"] = settings.model_copy(
        update={"job_heartbeat_timeout_s": HEARTBEAT_TIMEOUT_S}
    )
    return app


def _fill(browser: Browser, name: str, skip: int) -> int:
    project_id = browser.create_project(name)
    for digit in (0, 1):
        cls = browser.add_class(project_id, f"d{digit}")
        photos = [(d, f"{digit}-{i}.png") for i, d in enumerate(digit_pngs(digit, 5, skip))]
        assert browser.upload(project_id, cls, photos).status_code == 200
    return project_id


def test_jobs_waiting_for_the_busy_worker_are_not_lost(short_heartbeat: Flask) -> None:
    app = short_heartbeat
    queue = app.extensions["mirada.jobs"]
    assert queue.workers == 1
    busy, release = threading.Event(), threading.Event()

    def occupy() -> None:  # the single worker thread is busy with something long
        busy.set()
        release.wait(60)

    queue._executor().submit(occupy)
    reaper = Reaper(app.extensions["mirada.worker"].reap, interval_s=0.1)  # often, here
    reaper.start()
    try:
        assert busy.wait(10)
        ann, bob = Browser(app, "ann@example.com"), Browser(app, "bob@example.com")
        projects = [
            (ann, _fill(ann, "First", 0)),
            (ann, _fill(ann, "Second", 5)),
            (bob, _fill(bob, "Third", 10)),
            (bob, _fill(bob, "Fourth", 15)),
        ]
        with app.app_context():
            waiting = list(db.session.scalars(select(Job.id).order_by(Job.id)))
        assert len(waiting) == 4
        started = time.monotonic()
        while time.monotonic() - started < WAITED_S:  # the reaper looks for lost jobs meanwhile
            for (browser, project_id), job_id in zip(projects, waiting, strict=True):
                polled = browser.get(f"/projects/{project_id}/jobs/{job_id}", headers=JSON)
                assert polled.json["job"]["state"] == "queued", polled.json
                assert browser.get(f"/projects/{project_id}").status_code == 200
            time.sleep(0.2)
        with app.app_context():
            oldest = db.session.scalar(select(func.min(Job.created_at)))
            assert oldest is not None
            assert utcnow() - oldest > timedelta(seconds=HEARTBEAT_TIMEOUT_S)
            states = db.session.scalars(select(Job.state).order_by(Job.id))
            assert list(states) == ["queued"] * 4
    finally:
        reaper.stop()
        release.set()
    wait_for_jobs(app)
    with app.app_context():
        assert list(db.session.scalars(select(Job.state))) == ["succeeded"] * 4
        assert (
            db.session.scalar(
                select(func.count(Example.id)).where(Example.embedding_backbone.is_(None))
            )
            == 0
        )


def _dead_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert child.wait() == 0
    return child.pid


def test_jobs_held_by_processes_that_ended_are_lost_at_once(app: Flask) -> None:
    browser = Browser(app, "ann@example.com")
    ids = [browser.create_project(f"P{i}") for i in range(6)]
    me = current_runner()
    long_ago = utcnow() - timedelta(hours=1)
    cases = {
        # (state, host, pid, token, heartbeat): lost?
        "queued, its process ended": ("queued", host_key(), _dead_pid(), "1", None, True),
        "running, its pid now another process's": ("running", me.host, me.pid, "1", utcnow(), True),
        "queued for an hour in a live process": ("queued", me.host, me.pid, me.token, None, False),
        "running, beating, live": ("running", me.host, me.pid, me.token, utcnow(), False),
        "running elsewhere, silent": ("running", "elsewhere/1/2", 1, "9", long_ago, True),
        "queued elsewhere for an hour": ("queued", "elsewhere/1/2", 1, "9", None, False),
    }
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
        for project_id, (state, host, pid, token, beat, _lost) in zip(
            ids, cases.values(), strict=True
        ):
            db.session.add(
                Job(
                    user_id=user_id,
                    project_id=project_id,
                    kind="train",
                    state=state,
                    created_at=long_ago,
                    started_at=beat,
                    heartbeat_at=beat,
                    runner_host=host,
                    runner_pid=pid,
                    runner_token=token,
                )
            )
        db.session.commit()
        lost = jobs.reap_stalled_jobs(session=db.session(), heartbeat_timeout=timedelta(minutes=2))
        assert lost == 3
        db.session.commit()
        found = {job.project_id: job for job in db.session.scalars(select(Job))}
        outcome = {project_id: (job.state, job.error) for project_id, job in found.items()}
    for project_id, (name, case) in zip(ids, cases.items(), strict=True):
        expected = ("failed", "worker_lost") if case[-1] else (case[0], "")
        assert outcome[project_id] == expected, name

    # The page says so, and a new job may start at once: the dead one is no longer active.
    lost_job = browser.get(f"/projects/{ids[0]}/jobs/{found[ids[0]].id}", headers=JSON)
    assert lost_job.json["job"]["state"] == "failed"
    assert "stopped before it finished" in lost_job.json["job"]["error"]["message"]
    with app.app_context():
        for project_id, alive in ((ids[0], False), (ids[2], True), (ids[3], True)):
            project = db.session.get(Project, project_id)
            assert project is not None
            assert (
                jobs.active_job(session=db.session(), project=project, kind="train") is not None
            ) is alive
