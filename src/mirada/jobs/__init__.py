"""Running background jobs. The job code does not know how it is run.

``queue_from`` picks the queue from the settings: in embedded mode a thread pool in the
app process (no broker); a later adapter hands the same job ids to Celery. Each queue
runs jobs through a ``Worker`` given the registry of job kinds (see ``mirada.runtime``).
"""

from __future__ import annotations

from collections.abc import Callable

from mirada.config import Settings
from mirada.jobs.base import JobQueue
from mirada.jobs.threads import ThreadJobQueue


def queue_from(settings: Settings, *, run: Callable[[int], None]) -> JobQueue:
    """The job queue the settings ask for; ``run(job_id)`` runs one job."""
    return ThreadJobQueue(run=run, workers=settings.job_workers)


__all__ = ["JobQueue", "ThreadJobQueue", "queue_from"]
