"""Friendly error pages that never show a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from flask import Flask, Response, g, jsonify, make_response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.http import HTTP_STATUS_CODES

from mirada.db.app_session import db
from mirada.inference import InferenceUnavailable
from mirada.presenters.refusals import refusal_text
from mirada.runtime import settings
from mirada.services.errors import Busy, RetryLater, ServiceError
from mirada.web import current_user as auth_state
from mirada.web.redirects import back_path

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Not possible right now"),
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


def wants_json() -> bool:
    """Whether the client asked for JSON rather than a page (scripts and API clients do)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


CSRF_MESSAGE = _l(
    "This form has expired or did not come from this site. Reload the page and try again."
)


def render_error(
    status: int, message: str | None = None, code: str | None = None
) -> tuple[Response | str, int]:
    """An error page with a title and a message for a person, or JSON for a script."""
    title = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    text = message or str(MESSAGES.get(status) or MESSAGES[500 if status >= 500 else 400])
    if wants_json():
        default_code = HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_")
        body = {"error": {"code": code or default_code, "message": text}}
        return jsonify(body), status
    if "user" not in g:  # the error came before the user was loaded: still show who is signed in
        _load_user_quietly()
    page = render_template(
        "errors/error.html", status=status, title=title, message=text, back_url=_back_url()
    )
    return page, status


def _load_user_quietly() -> None:
    try:
        auth_state.load_current_user()
    except Exception:  # the database may be what failed; the page still shows
        log.warning("Could not load the user for an error page", exc_info=True)
        db.session.rollback()
        g.user = None


# Where a signed-in user goes back to when the failing page did not say where it came from.
AREA_PAGES = {
    "projects": "projects.index",
    "classify": "classify.index",
    "account": "account.index",
    "admin": "admin.users",
}


def _back_url() -> str | None:
    """The page the user was on (the Referer when on this site), else the area's main page."""
    area = AREA_PAGES.get(request.blueprint or "") if g.get("user") is not None else None
    return back_path(url_for(area) if area else None)


def _http_error(error: HTTPException) -> tuple[Response | str, int]:
    return render_error(error.code or 500)


INFERENCE_RETRY_AFTER_S = 10  # a replica restarting is back within seconds


def _inference_unavailable(error: InferenceUnavailable) -> tuple[Response, int]:
    log.error("Inference unavailable: %s", error)
    body, status = render_error(
        503,
        str(_l("The classification model is not available right now. Try again later.")),
        code="model_unavailable",
    )
    response = make_response(body, status)
    response.headers["Retry-After"] = str(INFERENCE_RETRY_AFTER_S)
    return response, status


DATABASE_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def _database_unavailable(error: Exception) -> Response:
    """The database is down, frozen, locked or out of connections: 503, try again shortly."""
    log.error("Database unavailable: %s", error)
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:  # the connection is gone; the pool replaces it
        log.debug("rollback after a database fault failed", exc_info=True)
    g.user = None  # the rollback expired it, and reading it again needs the database
    response = make_response(
        render_error(
            503,
            str(_l("The database is not answering right now. Try again in a moment.")),
            code="database_unavailable",
        )
    )
    response.headers["Retry-After"] = str(settings().db_retry_after_s)
    return response


def _csrf_error(error: CSRFError) -> tuple[Response | str, int]:
    return render_error(
        400,
        str(CSRF_MESSAGE),
        code="csrf_failed",
    )


def _untrusted_host(error: SecurityError) -> tuple[Response, int]:
    """A Host outside MIRADA_TRUSTED_HOSTS: no page (it would link to that host), just text."""
    message = str(_l("This server does not answer to that host name."))
    if wants_json():
        return jsonify({"error": {"code": "untrusted_host", "message": message}}), 400
    return Response(message + "\n", status=400, mimetype="text/plain"), 400


def error_response(status: int, message: str | None = None, code: str | None = None) -> Response:
    """``render_error`` as one response object."""
    return make_response(render_error(status, message, code))


def refusal_response(error: ServiceError) -> Response:
    """A service's refusal as an error page or JSON, with its status and Retry-After."""
    response = error_response(error.status, refusal_text(error), code=error.code)
    response.headers.update(retry_headers(response.status_code, [error]))
    return response


def _service_error(error: ServiceError) -> Response:
    db.session.rollback()
    return refusal_response(error)


def refusal_status(errors: Sequence[ServiceError]) -> int:
    """The status of an answer whose files were all refused: 503 if some were only early."""
    busy = next((error for error in errors if isinstance(error, Busy)), None)
    return (busy or errors[0]).status


def retry_headers(status: int, errors: Iterable[ServiceError]) -> dict[str, str]:
    """A Retry-After header for a 429 or 503 answer whose refusals say when to retry."""
    waits = [error.retry_after_s for error in errors if isinstance(error, RetryLater)]
    if status not in (429, 503) or not waits:
        return {}
    return {"Retry-After": str(max(waits))}


def _unexpected_error(error: Exception) -> tuple[Response | str, int]:
    original = error.original_exception if isinstance(error, InternalServerError) else error
    log.error("Unhandled error", exc_info=original)
    db.session.rollback()
    return render_error(500)


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers to the app."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(InferenceUnavailable, _inference_unavailable)
    for database_error in DATABASE_ERRORS:
        app.register_error_handler(database_error, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)
