"""Jobs on a thread pool inside the app process: the embedded mode, no broker needed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class ThreadJobQueue:
    """A small pool of threads; ``run(job_id)`` (a ``Worker``'s) runs each job."""

    in_process = True

    def __init__(self, *, run: Callable[[int], None], workers: int = 1) -> None:
        self.workers = workers
        self._run = run
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.workers, thread_name_prefix="mirada-job"
            )
        return self._pool

    def enqueue(self, job_id: int) -> None:
        self._executor().submit(self._guarded, job_id)

    def _guarded(self, job_id: int) -> None:
        try:
            self._run(job_id)
        except Exception:  # the worker records failures; this is the last resort
            log.exception("Job %s crashed outside its own error handling", job_id)
