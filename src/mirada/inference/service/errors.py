"""Refusals as JSON: ``{"error": {"code": "...", "message": "..."}}`` with the right status."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mirada.vision.intake import ImageRejected

# What the image intake refuses, as HTTP statuses.
IMAGE_STATUS = {
    "empty": 400,
    "not_an_image": 400,
    "corrupt": 400,
    "truncated": 400,
    "too_large": 413,
    "unsupported_format": 415,
    "too_many_pixels": 422,
}


class ServiceError(Exception):
    """A request refused with ``status``; ``code`` is stable, ``message`` is for people."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def from_image(cls, rejected: ImageRejected) -> ServiceError:
        """The refusal of an image the intake did not accept."""
        return cls(IMAGE_STATUS.get(rejected.code, 400), rejected.code, rejected.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def error_response(error: ServiceError) -> Response:
    return JSONResponse({"error": error.as_dict()}, error.status, headers=error.headers)


def busy() -> ServiceError:
    """The queue is full: refused at once, to be tried again in a second."""
    return ServiceError(
        503, "busy", "The service is at capacity; try again shortly.", {"Retry-After": "1"}
    )


def not_ready() -> ServiceError:
    return ServiceError(
        503,
        "not_ready",
        "The model is not loaded yet, or the service is stopping.",
        {"Retry-After": "1"},
    )


def deadline_exceeded() -> ServiceError:
    return ServiceError(504, "deadline_exceeded", "The request waited past its deadline.")


async def handle_service_error(request: Request, error: Exception) -> Response:
    """Starlette's handler for ``ServiceError``."""
    assert isinstance(error, ServiceError)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(code=error.code).inc()
    return error_response(error)
