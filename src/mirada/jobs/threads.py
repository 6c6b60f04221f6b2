"""Jobs on a thread pool inside the app process: the embedded mode, no broker needed."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

log = logging.getLogger(__name__)


class ThreadJobQueue:
    """A small pool of threads; each job runs in its own app context."""

    in_process = True

    def __init__(self, *, workers: int = 1) -> None:
        self.workers = workers
        self._app: Flask | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self, app: Flask) -> None:
        self._app = app

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.workers, thread_name_prefix="mirada-job"
            )
        return self._pool

    def enqueue(self, job_id: int) -> None:
        if self._app is None:
            raise RuntimeError("ThreadJobQueue.start(app) was not called")
        self._executor().submit(self._run, self._app, job_id)

    @staticmethod
    def _run(app: Flask, job_id: int) -> None:
        from mirada.services.jobs import run_job

        with app.app_context():
            try:
                run_job(job_id)
            except Exception:  # run_job records failures; this is the last resort
                log.exception("Job %s crashed outside its own error handling", job_id)
