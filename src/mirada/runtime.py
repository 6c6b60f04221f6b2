"""The running app's settings and adapters (blob store, inference, job queue, mailer,
background thread, decode budget).

``register`` picks each adapter once, from the settings, when the app is built; the
accessors hand them to the services, in requests and in background jobs alike.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from mirada.config import Settings
from mirada.heap import return_large_blocks
from mirada.inference import Inference, inference_from
from mirada.jobs import JobQueue, queue_from
from mirada.jobs.later import Later
from mirada.services.mail import Mailer, SmtpMailer
from mirada.storage import BlobStore, blob_store_from
from mirada.vision.budget import DecodeBudget


def register(app: Flask, settings: Settings) -> None:
    """Attach the settings and the adapters they ask for to ``app``."""
    app.extensions["mirada.settings"] = settings
    return_large_blocks()  # decoded photos are large: give their memory back when done
    app.extensions["mirada.blobs"] = blob_store_from(settings)
    app.extensions["mirada.mailer"] = SmtpMailer(settings)
    app.extensions["mirada.later"] = Later(app)
    app.extensions["mirada.inference"] = inference_from(settings)
    app.extensions["mirada.decode_budget"] = DecodeBudget(settings.decode_budget_mb * 1_000_000)
    queue = queue_from(settings)
    queue.start(app)
    app.extensions["mirada.jobs"] = queue


def settings() -> Settings:
    """The settings of the running app."""
    return cast(Settings, current_app.extensions["mirada.settings"])


def blobs() -> BlobStore:
    """The blob store of the running app."""
    return cast(BlobStore, current_app.extensions["mirada.blobs"])


def inference() -> Inference:
    """The inference adapter of the running app."""
    return cast(Inference, current_app.extensions["mirada.inference"])


def decode_budget() -> DecodeBudget:
    """The bytes of decoded pixels this process may hold at once (requests and jobs)."""
    return cast(DecodeBudget, current_app.extensions["mirada.decode_budget"])


def job_queue() -> JobQueue:
    """The job runner of the running app."""
    return cast(JobQueue, current_app.extensions["mirada.jobs"])


def mailer() -> Mailer:
    """How the running app sends mail."""
    return cast(Mailer, current_app.extensions["mirada.mailer"])


def later() -> Later:
    """The running app's background thread for work a request must not wait for."""
    return cast(Later, current_app.extensions["mirada.later"])
