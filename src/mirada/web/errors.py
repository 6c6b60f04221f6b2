"""Friendly error pages that never show a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from mirada.db import db
from mirada.services.errors import ServiceError

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    415: _l("Unsupported file type"),
    422: _l("Cannot process this"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}
MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to see this page."),
    404: _l("There is nothing here. Check the address, or go back to the start page."),
    405: _l("This address does not accept that kind of request."),
    413: _l("What you sent is larger than this server accepts."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("We could not complete your request. The problem has been logged."),
    503: _l("This service is temporarily unavailable. Try again in a moment."),
}


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    """An error page with a title and a message for a person."""
    title = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    text = message or MESSAGES.get(status) or MESSAGES[500 if status >= 500 else 400]
    return render_template("errors/error.html", status=status, title=title, message=text), status


def _http_error(error: HTTPException) -> tuple[str, int]:
    return render_error(error.code or 500)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        str(_l("This form has expired or did not come from this site. Reload the page and try again.")),
    )


def _service_error(error: ServiceError) -> tuple[str, int]:
    db.session.rollback()
    return render_error(error.status, str(error.message))


def _unexpected_error(error: Exception) -> tuple[str, int]:
    original = error.original_exception if isinstance(error, InternalServerError) else error
    log.error("Unhandled error", exc_info=original)
    db.session.rollback()
    return render_error(500)


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers to the app."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(Exception, _unexpected_error)
