"""The start page, the language switcher, and the liveness and readiness checks."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from mirada.db.app_session import db
from mirada.services import accounts
from mirada.web.current_user import current_user
from mirada.web.i18n import LANGUAGE_COOKIE
from mirada.web.main.example import EXAMPLE_IMAGE, EXAMPLE_PREDICTIONS, EXAMPLE_SIZE
from mirada.web.main.forms import LanguageForm
from mirada.web.redirects import safe_next

bp = Blueprint("main", __name__)

LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


@bp.get("/")
def index() -> str:
    return render_template(
        "main/index.html",
        example_image=EXAMPLE_IMAGE,
        example_size=EXAMPLE_SIZE,
        example_predictions=EXAMPLE_PREDICTIONS,
    )


@bp.post("/language")
def language() -> Response:
    form = LanguageForm()
    back = safe_next(form.next.data, url_for("main.index"))
    if not form.validate():
        return redirect(back)
    locale = form.locale.data or "en"
    user = current_user()
    if user is not None:
        accounts.update_profile(
            user=user, display_name=user.display_name, locale=locale, timezone=user.timezone
        )
    response = redirect(back)
    response.set_cookie(
        LANGUAGE_COOKIE,
        locale,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Alive: the process answers (whatever the database does)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """Ready: the database answers too (if not, the error handler answers 503, Retry-After)."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}, 200
