"""The Classify page, the history, and the owner-only image files."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from mirada.db import Classification, User
from mirada.services import classifications
from mirada.services.classifications import Upload, UploadOutcome
from mirada.services.errors import ServiceError
from mirada.storage import BlobNotFound
from mirada.vision.thumbnail import THUMBNAIL_MEDIA_TYPE
from mirada.web.components import blobs, inference
from mirada.web.converters import valid_id
from mirada.web.current_user import current_user, login_required, settings
from mirada.web.errors import render_error, wants_json
from mirada.web.forms import ConfirmForm

bp = Blueprint("classify", __name__)

MAX_FILES_PER_REQUEST = 20
MEDIA_KINDS = ("image", "thumbnail")


def _user() -> User:
    user = current_user()
    assert user is not None  # guaranteed by login_required
    return user


def _as_json(outcome: UploadOutcome) -> dict[str, Any]:
    if outcome.error is not None:
        return {
            "file": outcome.filename,
            "error": {"code": outcome.error.code, "message": str(outcome.error.message)},
        }
    row = outcome.classification
    assert row is not None
    return {"file": outcome.filename, **classification_json(row)}


def classification_json(row: Classification) -> dict[str, Any]:
    """A classification as the page's script (and later the API) sees it."""
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "model": {"name": row.model_name, "version": row.model_version},
        "predictions": row.predictions,
        "thumbnail_url": url_for("classify.media", classification_id=row.id, kind="thumbnail"),
        "image_url": url_for("classify.media", classification_id=row.id, kind="image"),
    }


@bp.get("/classify")
@login_required
def index() -> str:
    return render_template("classify/index.html", form=ConfirmForm(), outcomes=None)


@bp.post("/classify")
@login_required
def classify() -> Any:
    files = [f for f in request.files.getlist("photos") if f and (f.filename or f.content_length)]
    if not files:
        raise ServiceError("no_files", _l("Choose at least one photo."))
    if len(files) > MAX_FILES_PER_REQUEST:
        raise ServiceError(
            "too_many_files",
            _l("Send at most %(n)d photos at a time.", n=MAX_FILES_PER_REQUEST),
        )
    outcomes = classifications.classify_uploads(
        user=_user(),
        uploads=[Upload(filename=f.filename or "", data=f.read()) for f in files],
        settings=settings(),
        inference=inference(),
        blobs=blobs(),
    )
    refused = [o.error for o in outcomes if o.error is not None]
    status = refused[0].status if len(refused) == len(outcomes) else 200
    if wants_json():
        if len(outcomes) == 1 and refused:
            return render_error(status, str(refused[0].message), code=refused[0].code)
        return jsonify({"results": [_as_json(o) for o in outcomes]}), status
    return render_template("classify/index.html", form=ConfirmForm(), outcomes=outcomes), status


@bp.get("/history")
@login_required
def history() -> str:
    before = valid_id(request.args.get("before", type=int))
    page = classifications.history(user=_user(), before=before)
    return render_template("classify/history.html", page=page, form=ConfirmForm(), before=before)


@bp.post("/history/<id:classification_id>/delete")
@login_required
def delete(classification_id: int) -> Response:
    classifications.delete_classification(
        user=_user(), classification_id=classification_id, blobs=blobs()
    )
    flash(_("The classification has been deleted."), "success")
    before = valid_id(request.args.get("before", type=int))
    return redirect(url_for("classify.history", before=before))


@bp.post("/history/delete-all")
@login_required
def delete_all() -> Response:
    count = classifications.delete_history(user=_user(), blobs=blobs())
    flash(
        ngettext(
            "%(num)d classification has been deleted.",
            "%(num)d classifications have been deleted.",
            count,
        ),
        "success",
    )
    return redirect(url_for("classify.history"))


@bp.get("/media/classifications/<id:classification_id>/<kind>")
@login_required
def media(classification_id: int, kind: str) -> Response:
    if kind not in MEDIA_KINDS:
        abort(404)
    row = classifications.get_classification(user=_user(), classification_id=classification_id)
    key, content_type = (
        (row.image_key, row.content_type)
        if kind == "image"
        else (row.thumbnail_key, THUMBNAIL_MEDIA_TYPE)
    )
    try:
        data = blobs().get(key)
    except BlobNotFound:
        abort(404)
    response = Response(data, content_type=content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    return response
