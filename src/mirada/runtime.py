"""The running app's settings and adapters (blob store, inference, prediction cache, job
queue, mailer, background thread, decode budget).

``register`` picks each adapter once, from the settings, when the app is built; the
accessors hand them to the doors (views, commands, the job runner), which pass them on
to the services. It also gives the job queue the registry of job kinds, and starts the
periodic check for lost jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from flask import Flask, current_app

from mirada.config import Settings
from mirada.db.app_session import db
from mirada.heap import return_large_blocks
from mirada.inference import Inference, inference_from
from mirada.inference.cache import PredictionCache, cache_from
from mirada.jobs import JobQueue, queue_from
from mirada.jobs.base import JobContext, Registry, Resources
from mirada.jobs.inline import InlineJobQueue
from mirada.jobs.later import Later
from mirada.jobs.reaper import Reaper
from mirada.jobs.worker import Worker
from mirada.services.mail import Mailer, SmtpMailer
from mirada.storage import BlobStore, blob_store_from
from mirada.vision.budget import DecodeBudget

REAP_INTERVAL_S = 5.0  # a job whose process has ended shows as lost within this


def register(app: Flask, settings: Settings) -> None:
    """Attach the settings and the adapters they ask for to ``app``."""
    app.extensions["mirada.settings"] = settings
    return_large_blocks()  # decoded photos are large: give their memory back when done
    app.extensions["mirada.blobs"] = blob_store_from(settings)
    app.extensions["mirada.mailer"] = SmtpMailer(settings)
    app.extensions["mirada.later"] = Later(app)
    app.extensions["mirada.inference"] = inference_from(settings)
    app.extensions["mirada.prediction_cache"] = cache_from(settings)
    app.extensions["mirada.decode_budget"] = DecodeBudget(settings.decode_budget_mb * 1_000_000)
    worker = Worker(registry=job_kinds(), scope=lambda: _job_scope(app), reap=_reap_stalled_jobs)
    app.extensions["mirada.worker"] = worker
    queue = queue_from(settings, run=worker.run)
    app.extensions["mirada.jobs"] = queue
    if queue.in_process:  # embedded mode: this process reaps lost jobs on a schedule
        interval_s = min(REAP_INTERVAL_S, settings.job_heartbeat_timeout_s / 2)
        reaper = Reaper(worker.reap, interval_s=interval_s)
        app.extensions["mirada.reaper"] = reaper
        reaper.start()


# The job kinds. The training services (scikit-learn) load when a job first needs them.


def _embed(context: JobContext) -> dict[str, Any]:
    from mirada.services.training import run_embed_job

    return run_embed_job(context)


def _train(context: JobContext) -> dict[str, Any]:
    from mirada.services.training import run_train_job

    return run_train_job(context)


def _reap_stalled_jobs(**kwargs: Any) -> int:
    from mirada.services.jobs import reap_stalled_jobs

    return reap_stalled_jobs(**kwargs)


def job_kinds() -> Registry:
    """What each kind of job runs."""
    return {"embed": _embed, "train": _train}


@contextmanager
def _job_scope(app: Flask) -> Iterator[Resources]:
    """What one job uses: its own app context and session, and the app's adapters."""
    with app.app_context():
        yield Resources(
            session=db.session(),
            settings=settings(),
            blobs=blobs(),
            inference=inference(),
            budget=decode_budget(),
        )


# The accessors


def settings() -> Settings:
    """The settings of the running app."""
    return cast(Settings, current_app.extensions["mirada.settings"])


def blobs() -> BlobStore:
    """The blob store of the running app."""
    return cast(BlobStore, current_app.extensions["mirada.blobs"])


def inference() -> Inference:
    """The inference adapter of the running app."""
    return cast(Inference, current_app.extensions["mirada.inference"])


def prediction_cache() -> PredictionCache:
    """Answers the model already gave (in this process, or shared in Redis)."""
    return cast(PredictionCache, current_app.extensions["mirada.prediction_cache"])


def decode_budget() -> DecodeBudget:
    """The bytes of decoded pixels this process may hold at once (requests and jobs)."""
    return cast(DecodeBudget, current_app.extensions["mirada.decode_budget"])


def job_queue() -> JobQueue:
    """The job queue of the running app."""
    return cast(JobQueue, current_app.extensions["mirada.jobs"])


def job_worker() -> Worker:
    """What runs one job by its id (and reaps lost ones) in this process."""
    return cast(Worker, current_app.extensions["mirada.worker"])


def inline_job_queue() -> InlineJobQueue:
    """A queue whose jobs this process runs itself, when it says (the CLI's ``train``)."""
    return InlineJobQueue(run=job_worker().run)


def mailer() -> Mailer:
    """How the running app sends mail."""
    return cast(Mailer, current_app.extensions["mirada.mailer"])


def later() -> Later:
    """The running app's background thread for work a request must not wait for."""
    return cast(Later, current_app.extensions["mirada.later"])
