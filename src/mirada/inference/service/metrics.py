"""The service's Prometheus metrics, in a registry of each app's own."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "mirada_inference"
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ROUTES = (
    "/v1/models/imagenet/predict",
    "/v1/embed",
    "/v1/models",
    "/healthz",
    "/readyz",
    "/metrics",
)


class ServiceMetrics:
    """Requests, latency, batch sizes, queue depth, errors, cache lookups, images."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            f"{PREFIX}_requests", "Requests answered", ["route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            f"{PREFIX}_request_seconds",
            "Time to answer a request",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            f"{PREFIX}_batch_size", "Images per model run", buckets=BATCH_BUCKETS, registry=r
        )
        self.queue_depth = Gauge(
            f"{PREFIX}_queue_depth", "Images waiting for the model", registry=r
        )
        self.errors = Counter(f"{PREFIX}_errors", "Refusals by code", ["code"], registry=r)
        self.cache_hits = Counter(f"{PREFIX}_cache_hits", "Answers found in the cache", registry=r)
        self.cache_misses = Counter(
            f"{PREFIX}_cache_misses", "Answers not found in the cache", registry=r
        )
        self.images = Counter(f"{PREFIX}_images", "Images run through the model", registry=r)

    def watch_queue(self, depth: Callable[[], float]) -> None:
        """Read the queue depth from ``depth`` at each scrape."""
        self.queue_depth.set_function(depth)

    def observe_batch(self, size: int) -> None:
        self.batch_size.observe(size)
        self.images.inc(size)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request by route (unknown paths as ``other``) and status."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in ROUTES else "other"
        status = 500
        start = time.perf_counter()

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            self.metrics.request_seconds.labels(route=route).observe(time.perf_counter() - start)
            self.metrics.requests.labels(route=route, status=str(status)).inc()
