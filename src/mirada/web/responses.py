"""The one place a view chooses between a page for a person and JSON for a script.

A view says both answers and ``answer`` gives the one the client asked for (``wants_json``);
errors raised by a view are answered the same way by the handlers of ``mirada.web.errors``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import jsonify, make_response
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field

from mirada.services.errors import ServiceError
from mirada.web.errors import error_response, refusal_response, retry_headers, wants_json
from mirada.web.forms import place_refusal

Made = str | Response | Mapping[str, Any]


def answer(
    *,
    html: Callable[[], str | Response],
    json: Callable[[], Mapping[str, Any] | Response],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The page (``html``) or the JSON body (``json``) the client asked for; only that one is
    made. A page or a body answers with ``status``; a ready response (a redirect, an error)
    keeps its own. ``headers`` go on either."""
    made: Made = json() if wants_json() else html()
    if isinstance(made, Response):
        response = made
    elif isinstance(made, str):
        response = make_response(made, status)
    else:
        response = jsonify(made)
        response.status_code = status
    response.headers.update(headers or {})
    return response


def first_error(form: FlaskForm) -> str:
    """The first of a form's errors, for an answer that can hold one line."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return str(_("Check the form."))


def form_refused(
    form: FlaskForm,
    page: Callable[[], str],
    error: ServiceError | None = None,
    fields: Mapping[str, Field] | None = None,
    *,
    status: int | None = None,
) -> Response:
    """The one form ritual: a form that did not pass (``error`` None: its own checks; else
    the service's refusal), as the page again with the words under their field (see
    ``place_refusal``) or as JSON: ``invalid`` for the form's checks, else the refusal's
    own code. The status is ``place_refusal``'s unless ``status`` is given; a refusal that
    may succeed later says when (Retry-After) on either."""
    if error is None:
        return answer(
            html=page,
            json=lambda: error_response(422, first_error(form), code="invalid"),
            status=status or 422,
        )
    placed = place_refusal(form, error, fields)
    shown = status or placed
    return answer(
        html=page,
        json=lambda: refusal_response(error),
        status=shown,
        headers=retry_headers(shown, [error]),
    )
