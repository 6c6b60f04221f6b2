"""Running background jobs. The job code does not know how it is run.

``queue_from`` picks the runner from the settings: in embedded mode a thread pool in
the app process (no broker); a later adapter hands the same job ids to Celery.
"""

from __future__ import annotations

from mirada.config import Settings
from mirada.jobs.base import JobQueue
from mirada.jobs.threads import ThreadJobQueue


def queue_from(settings: Settings) -> JobQueue:
    """The job runner the settings ask for."""
    return ThreadJobQueue(workers=settings.job_workers)


__all__ = ["JobQueue", "ThreadJobQueue", "queue_from"]
