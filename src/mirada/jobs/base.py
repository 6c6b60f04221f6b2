"""The contract of a job runner."""

from __future__ import annotations

from typing import Protocol

from flask import Flask


class JobQueue(Protocol):
    """Runs ``mirada.services.jobs.run_job(job_id)`` somewhere, some time soon.

    ``in_process``: queued jobs wait in this process's memory (a thread pool), so they are
    lost with it; a broker's queue outlives the process that submitted to it.
    """

    in_process: bool

    def start(self, app: Flask) -> None:
        """Bind to the app whose context the jobs run in."""
        ...

    def enqueue(self, job_id: int) -> None: ...
