"""Jobs run by the process that submitted them, when it chooses: the command line's
``train`` runs its job here and now, through the same worker as the app's threads."""

from __future__ import annotations

from typing import Protocol

from mirada.jobs.base import Progress


class Run(Protocol):
    def __call__(self, job_id: int, *, observe: Progress | None = None) -> None: ...


class InlineJobQueue:
    """Notes the job ids it is given; ``run(job_id)`` runs one in the calling thread."""

    in_process = True

    def __init__(self, *, run: Run) -> None:
        self.job_ids: list[int] = []
        self._run = run

    def enqueue(self, job_id: int) -> None:
        """Note the job; the caller runs it."""
        self.job_ids.append(job_id)

    def run(self, job_id: int, *, observe: Progress | None = None) -> None:
        """Run the job now, in this thread; ``observe`` is told its progress."""
        self._run(job_id, observe=observe)
