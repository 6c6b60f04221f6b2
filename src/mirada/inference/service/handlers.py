"""``POST /v1/models/imagenet/predict`` and ``POST /v1/embed``.

Both take one image, a multipart form of images, or model pixels (rgb224). Answers to
one image and to model pixels are cached by the body's digest, the model version and
the question; a repeated body is answered from the cache with ``"cached": true``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mirada.inference.base import EMBEDDING_SIZE
from mirada.inference.cache import cache_key
from mirada.inference.service.bodies import (
    RGB224_BYTES,
    Kind,
    Part,
    body_kind,
    file_parts,
    read_body,
    rgb224_pixels,
    whole_number,
)
from mirada.inference.service.engine import Engine, ModelCard
from mirada.inference.service.errors import ServiceError
from mirada.vision.intake import ImageRejected
from mirada.vision.labels import NUM_CLASSES, imagenet_labels
from mirada.vision.predictions import checked_prediction, top_k

OCTET_STREAM = "application/octet-stream"
EMBEDDING_BYTES = EMBEDDING_SIZE * 4
Timing = dict[str, float]


class Call:
    """One request to the model: its engine, model, deadline, body and timings."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.start = time.monotonic()
        self.engine: Engine = request.app.state.engine
        self.card: ModelCard = self.engine.model()
        self.deadline = self.start + _deadline_ms(request, self.engine) / 1000
        self.kind = body_kind(request.headers.get("content-type", ""))
        self.timing: Timing = {"queue": 0.0, "decode": 0.0, "inference": 0.0, "total": 0.0}
        # A caller that keeps answers of its own (the web, per user) asks for no sharing.
        self.shared = "no-store" not in request.headers.get("cache-control", "").lower()

    async def body(self) -> bytes:
        return await read_body(self.request, limit=self.engine.settings.max_upload_bytes)

    def cached(self, key: str) -> bytes | None:
        """The cache's answer under ``key``, counted in the metrics."""
        if not self.shared:
            return None
        value = self.engine.cache.get(key)
        counter = (
            self.engine.metrics.cache_hits
            if value is not None
            else self.engine.metrics.cache_misses
        )
        counter.inc()
        return value

    def remember(self, key: str, value: bytes) -> None:
        """Keep an answer for the next caller with the same body, unless asked not to."""
        if self.shared:
            self.engine.cache.put(key, value)

    async def pixels(self, body: bytes) -> np.ndarray:
        """Model pixels ``[n, 224, 224, 3]`` of a one-image or rgb224 body."""
        if self.kind is Kind.RGB224:
            return rgb224_pixels(body, max_images=self.engine.settings.max_parts)
        began = time.monotonic()
        try:
            pixels = await self.engine.decode(body, deadline=self.deadline)
        except ImageRejected as rejected:
            raise ServiceError.from_image(rejected) from None
        self.timing["decode"] = _ms(time.monotonic() - began)
        return pixels[np.newaxis]

    async def parts(self, body: bytes) -> list[tuple[Part, np.ndarray | ServiceError]]:
        """Each file of a multipart body with its model pixels, or why it was refused."""
        parts = await file_parts(
            self.request.headers, body, max_parts=self.engine.settings.max_parts
        )
        began = time.monotonic()

        async def decoded(part: Part) -> np.ndarray | ServiceError:
            try:
                return await self.engine.decode(part.data, deadline=self.deadline)
            except ImageRejected as rejected:
                self.engine.metrics.errors.labels(code=rejected.code).inc()
                return ServiceError.from_image(rejected)

        results = await asyncio.gather(*(decoded(part) for part in parts))
        self.timing["decode"] = _ms(time.monotonic() - began)
        return list(zip(parts, results, strict=True))

    async def run(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logits and embeddings of ``pixels``."""
        rows = await self.engine.run(pixels, deadline=self.deadline)
        self.timing["queue"] = _ms(rows.queue_s)
        self.timing["inference"] = _ms(rows.inference_s)
        return rows.logits, rows.embeddings

    def answer(self, payload: dict[str, object], **extra: object) -> JSONResponse:
        self.timing["total"] = _ms(time.monotonic() - self.start)
        return JSONResponse(
            {**payload, "model": self.card.as_dict(), "timing_ms": self.timing, **extra},
            headers={"X-Model-Version": self.card.version},
        )


def _deadline_ms(request: Request, engine: Engine) -> int:
    """The settings' deadline, or the caller's ``X-Deadline-Ms`` when that is sooner."""
    limit = engine.settings.request_deadline_ms
    asked = request.headers.get("x-deadline-ms")
    if asked is None:
        return limit
    if not whole_number(asked):
        raise ServiceError(400, "bad_deadline", "X-Deadline-Ms is a number of milliseconds.")
    return min(int(asked), limit)


def _top_k(request: Request) -> int:
    raw = request.query_params.get("top_k", "5")
    if not whole_number(raw) or not 1 <= int(raw) <= NUM_CLASSES:
        raise ServiceError(400, "bad_top_k", f"top_k is a whole number from 1 to {NUM_CLASSES}.")
    return int(raw)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _ranked(logits: np.ndarray, k: int) -> list[list[dict[str, object]]]:
    labels = imagenet_labels()
    return [[asdict(p) for p in top_k(row, k, labels=labels)] for row in logits]


async def predict(request: Request) -> Response:
    """The top ``top_k`` ImageNet classes of each image."""
    call = Call(request)
    k = _top_k(request)
    body = await call.body()
    if call.kind is Kind.MULTIPART:
        return await _predict_parts(call, body, k)
    key = cache_key(body, version=call.card.version, kind=f"predict:{call.kind.value}:{k}")
    known = _cached_predictions(call.cached(key), k)
    if known is not None:
        return call.answer(known, cached=True)
    logits, _ = await call.run(await call.pixels(body))
    ranked = _ranked(logits, k)
    payload: dict[str, object] = (
        {"predictions": ranked[0]}
        if call.kind is Kind.IMAGE
        else {"results": [{"predictions": row} for row in ranked]}
    )
    call.remember(key, json.dumps(payload).encode())
    return call.answer(payload, cached=False)


def _cached_predictions(value: bytes | None, k: int) -> dict[str, object] | None:
    """A cached predict answer, if it reads as one (anything else is a miss)."""
    if value is None:
        return None
    try:
        payload = json.loads(value)
        rows = [payload["predictions"]] if "predictions" in payload else payload["results"]
        rows = [row if isinstance(row, list) else row["predictions"] for row in rows]
        if rows and all(len(row) == k and all(_is_prediction(p) for p in row) for row in rows):
            return dict(payload)
    except (ValueError, TypeError, KeyError):
        pass
    return None


def _is_prediction(p: object) -> bool:
    try:
        checked_prediction(p, classes=NUM_CLASSES)
    except ValueError:
        return False
    return True


async def _predict_parts(call: Call, body: bytes, k: int) -> Response:
    decoded = await call.parts(body)
    good = [pixels for _, pixels in decoded if isinstance(pixels, np.ndarray)]
    ranked = iter(_ranked((await call.run(np.stack(good)))[0], k) if good else [])
    results: list[dict[str, object]] = []
    for part, pixels in decoded:
        if isinstance(pixels, ServiceError):
            results.append({"filename": part.filename, "error": pixels.as_dict()})
        else:
            results.append({"filename": part.filename, "predictions": next(ranked)})
    return call.answer({"results": results})


async def embed(request: Request) -> Response:
    """The backbone's pooled 1280-float embedding of each image."""
    call = Call(request)
    body = await call.body()
    if call.kind is Kind.MULTIPART:
        decoded = await call.parts(body)
        for part, pixels in decoded:
            if isinstance(pixels, ServiceError):
                pixels.message = f"{part.filename or 'A part'}: {pixels.message}"
                raise pixels
        good = [pixels for _, pixels in decoded if isinstance(pixels, np.ndarray)]
        embeddings = (await call.run(np.stack(good)))[1]
        return _embeddings(call, embeddings, cached=False)
    key = cache_key(body, version=call.card.version, kind=f"embed:{call.kind.value}")
    known = call.cached(key)
    images = 1 if call.kind is Kind.IMAGE else len(body) // RGB224_BYTES
    if known is not None and len(known) == images * EMBEDDING_BYTES:
        vectors = np.frombuffer(known, "<f4").reshape(images, -1)
        if np.isfinite(vectors).all():
            return _embeddings(call, vectors, cached=True)
    embeddings = (await call.run(await call.pixels(body)))[1]
    call.remember(key, embeddings.astype("<f4").tobytes())
    return _embeddings(call, embeddings, cached=False)


def _embeddings(call: Call, embeddings: np.ndarray, *, cached: bool) -> Response:
    """JSON floats, or raw little-endian float32 bytes when the caller accepts them."""
    if OCTET_STREAM in call.request.headers.get("accept", ""):
        return Response(
            embeddings.astype("<f4").tobytes(),
            media_type=OCTET_STREAM,
            headers={
                "X-Model-Name": call.card.name,
                "X-Model-Version": call.card.version,
                "X-Cached": "true" if cached else "false",
            },
        )
    return call.answer({"embeddings": embeddings.tolist()}, cached=cached)
