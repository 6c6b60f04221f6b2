"""Errors the services raise for the web layer and the CLI to show to a person."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A refusal: a machine code, the parameters its words need, and the HTTP status.

    The words themselves live with the doors (``mirada.presenters.refusals``), so that the
    pages, the CLI and the API say the same thing in the reader's language.
    """

    status = 400

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class NotFound(ServiceError):
    """The object does not exist or belongs to someone else."""

    status = 404


class Conflict(ServiceError):
    """The request clashes with what is stored (a duplicate, say)."""

    status = 409


class RetryLater(ServiceError):
    """A refusal that may succeed after ``retry_after_s`` seconds (the Retry-After header)."""

    def __init__(self, code: str, /, *, retry_after_s: int, **params: Any) -> None:
        super().__init__(code, **params)
        self.retry_after_s = retry_after_s


class TooManyAttempts(RetryLater):
    """Slowed down: too many failures recently."""

    status = 429


class Busy(RetryLater):
    """The server has no room for this work right now."""

    status = 503


def detached(error: ServiceError) -> ServiceError:
    """``error`` without its traceback and chained causes, to keep as a per-file result.

    A traceback holds the frames it passed through, and with them whatever they held (a
    decoded photo of hundreds of megabytes): a refusal kept until the answer is written
    must not keep those alive.
    """
    error.__traceback__ = None
    error.__cause__ = None
    error.__context__ = None
    return error
