"""Who is counted when requests are throttled, and the page a throttled request gets."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from mirada.presenters.refusals import refusal_text
from mirada.services.errors import TooManyAttempts

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


def client_address() -> str:
    """The client's address (as the proxy saw it when MIRADA_PROXY_COUNT trusts one)."""
    return request.remote_addr or "unknown"


def throttled(template: str, form: FlaskForm, refusal: TooManyAttempts, **context: Any) -> Page:
    """``template`` again with the refusal above the form: 429 with Retry-After."""
    form.form_errors.append(refusal_text(refusal))
    page = render_template(template, form=form, **context)
    return page, 429, {"Retry-After": str(refusal.retry_after_s)}
