"""The running app's adapters (blob store, inference), chosen once in the app factory."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from mirada.config import Settings
from mirada.inference import Inference, inference_from
from mirada.storage import BlobStore, blob_store_from


def register_components(app: Flask, settings: Settings) -> None:
    """Pick the adapters the settings ask for."""
    app.extensions["mirada.blobs"] = blob_store_from(settings)
    app.extensions["mirada.inference"] = inference_from(settings)


def blobs() -> BlobStore:
    """The blob store of the running app."""
    return cast(BlobStore, current_app.extensions["mirada.blobs"])


def inference() -> Inference:
    """The inference adapter of the running app."""
    return cast(Inference, current_app.extensions["mirada.inference"])
