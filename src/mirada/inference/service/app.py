"""The inference service's Starlette app: routes, bearer token, JSON errors, metrics.

``create_app()`` reads ``ServiceSettings`` from the environment (uvicorn's factory). The
model loads in the background at startup: ``/healthz`` answers at once, ``/readyz`` and
``/v1`` answer 503 until it is loaded, and again from the moment a SIGTERM or SIGINT
arrives (uvicorn then stops accepting, lets the requests in flight finish, and ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mirada.inference.base import EMBEDDING_SIZE
from mirada.inference.service.engine import Engine
from mirada.inference.service.errors import ServiceError, error_response, handle_service_error
from mirada.inference.service.handlers import embed, predict
from mirada.inference.service.metrics import MetricsMiddleware, ServiceMetrics
from mirada.inference.service.settings import ServiceSettings
from mirada.vision.labels import NUM_CLASSES

log = logging.getLogger(__name__)


class RequireToken:
    """Every request below it carries ``Authorization: Bearer <token>``, else 401."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope.get("headers", [])).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            refusal = ServiceError(
                401,
                "unauthorized",
                "This service needs its bearer token.",
                {"WWW-Authenticate": "Bearer"},
            )
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if _engine(request).ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not ready"}, 503, headers={"Retry-After": "1"})


async def metrics(request: Request) -> Response:
    registry: ServiceMetrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=registry.content_type)


async def models(request: Request) -> Response:
    card = _engine(request).model()
    return JSONResponse(
        {
            "models": [
                {
                    "name": "imagenet",
                    "model": card.name,
                    "version": card.version,
                    "classes": NUM_CLASSES,
                    "embedding_size": EMBEDDING_SIZE,
                    "precision": card.precision,
                }
            ]
        }
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "bad_request")
    return error_response(ServiceError(error.status_code, code, str(error.detail)))


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return error_response(ServiceError(500, "internal", "The service failed; this is a bug."))


def _drain_on_signals(engine: Engine) -> None:
    """Turn not-ready as soon as SIGTERM or SIGINT arrives, then let uvicorn's handler
    (installed before startup) stop the server gracefully."""
    if threading.current_thread() is not threading.main_thread():
        return  # not served by uvicorn (an in-process test client): no signals to watch
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def draining(
            signum: int, frame: FrameType | None, previous: Callable[..., object] = previous
        ) -> None:
            engine.draining = True
            previous(signum, frame)

        signal.signal(sig, draining)


def create_app(settings: ServiceSettings | None = None) -> Starlette:
    """The service's app; ``settings`` default to the environment's."""
    settings = settings or ServiceSettings()
    registry = ServiceMetrics()
    engine = Engine(settings, registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _drain_on_signals(engine)
        loading = asyncio.create_task(asyncio.to_thread(engine.load))
        yield
        engine.draining = True
        await loading
        await asyncio.to_thread(engine.close)

    v1 = [
        Route("/models/imagenet/predict", predict, methods=["POST"]),
        Route("/embed", embed, methods=["POST"]),
        Route("/models", models, methods=["GET"]),
    ]
    guard = [Middleware(RequireToken, token=settings.inference_token)]
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Mount("/v1", routes=v1, middleware=guard if settings.inference_token else []),
        ],
        middleware=[Middleware(MetricsMiddleware, metrics=registry)],
        exception_handlers={
            ServiceError: handle_service_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.metrics = registry
    app.state.settings = settings
    return app
