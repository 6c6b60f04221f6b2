"""The Classify page, the history, and the owner-only image files."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from mirada.db import Classification, ProjectClass, User
from mirada.db.app_session import db
from mirada.presenters import classify as words
from mirada.presenters.classify import (
    feedback_json,
    model_label,
    predicted_class,
    shown_predictions,
    shown_top_label,
)
from mirada.presenters.refusals import refusal_text
from mirada.runtime import blobs, decode_budget, inference, job_queue, prediction_cache, settings
from mirada.services import classifications, projects
from mirada.services.classifications import Upload, UploadOutcome
from mirada.services.classifiers import ChosenModel, imagenet_model, project_model
from mirada.services.errors import NotFound, ServiceError
from mirada.services.feedback import give_feedback
from mirada.services.training import request_embeddings
from mirada.web.converters import parse_id, valid_id
from mirada.web.current_user import current_user, login_required
from mirada.web.errors import error_response, refusal_status, retry_headers
from mirada.web.forms import ConfirmForm
from mirada.web.media import MEDIA_KINDS, photo_response
from mirada.web.redirects import safe_next
from mirada.web.responses import answer

bp = Blueprint("classify", __name__)
bp.add_app_template_filter(shown_predictions)
bp.add_app_template_filter(shown_top_label)

MAX_FILES_PER_REQUEST = 20


def _user() -> User:
    user = current_user()
    assert user is not None  # guaranteed by login_required
    return user


def _as_json(
    outcome: UploadOutcome, classes_by_project: dict[int, list[ProjectClass]]
) -> dict[str, Any]:
    if outcome.error is not None:
        return {
            "file": outcome.filename,
            "error": {"code": outcome.error.code, "message": refusal_text(outcome.error)},
        }
    row = outcome.classification
    assert row is not None
    answer = {"file": outcome.filename, **classification_json(row)}
    classes = classes_by_project.get(row.project_id or 0)
    if classes:
        url = url_for("classify.feedback", classification_id=row.id)
        answer["feedback"] = feedback_json(row, classes, url)
    return answer


def classification_json(row: Classification) -> dict[str, Any]:
    """A classification as the page's script (and later the API) sees it."""
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "model": {"name": row.model_name, "version": row.model_version, "label": model_label(row)},
        "project_id": row.project_id,
        "confident": row.confident,
        "predictions": shown_predictions(row),
        "thumbnail_url": url_for("classify.media", classification_id=row.id, kind="thumbnail"),
        "image_url": url_for("classify.media", classification_id=row.id, kind="image"),
    }


IMAGENET = "imagenet"


@bp.context_processor
def presenters() -> dict[str, Any]:
    """What the Classify and History templates use to word a classification."""
    return {"model_label": model_label, "predicted_class": predicted_class}


def _model_choices(user: User) -> list[tuple[str, str]]:
    """ImageNet, then each of the user's projects that has a serving version."""
    trained = [
        p
        for p in projects.list_projects(session=db.session(), user=user)
        if p.serving_version_id is not None
    ]
    return [(IMAGENET, words.imagenet_name())] + [(str(p.id), p.name) for p in trained]


def _chosen_model(user: User, choice: str) -> ChosenModel:
    if choice in ("", IMAGENET):
        return imagenet_model(inference=inference(), cache=prediction_cache(), owner_id=user.id)
    project_id = parse_id(choice)
    if project_id is None:
        raise NotFound("project_not_found")
    project = projects.get_project(session=db.session(), user=user, project_id=project_id)
    return project_model(
        project=project,
        inference=inference(),
        blobs=blobs(),
        cache=prediction_cache(),
        owner_id=user.id,
    )


def _classes_by_project(rows: list[Classification]) -> dict[int, list[ProjectClass]]:
    """The classes of the projects these rows were classified with, for the feedback forms."""
    ids = {row.project_id for row in rows if row.project_id is not None}
    return {
        project_id: list(
            projects.get_project(session=db.session(), user=_user(), project_id=project_id).classes
        )
        for project_id in ids
    }


def _page(outcomes: list[UploadOutcome] | None, choice: str) -> str:
    rows = [o.classification for o in outcomes or [] if o.classification is not None]
    return render_template(
        "classify/index.html",
        form=ConfirmForm(),
        outcomes=outcomes,
        model_choices=_model_choices(_user()),
        chosen=choice,
        classes_by_project=_classes_by_project(rows),
    )


@bp.get("/classify")
@login_required
def index() -> str:
    return _page(None, request.args.get("model", IMAGENET))


@bp.post("/classify")
@login_required
def classify() -> ResponseReturnValue:
    files = [f for f in request.files.getlist("photos") if f and (f.filename or f.content_length)]
    if not files:
        raise ServiceError("no_files")
    if len(files) > MAX_FILES_PER_REQUEST:
        raise ServiceError("too_many_files", n=MAX_FILES_PER_REQUEST)
    choice = request.form.get("model", IMAGENET)
    outcomes = classifications.classify_uploads(
        session=db.session(),
        user=_user(),
        uploads=[Upload(filename=f.filename or "", data=f.read()) for f in files],
        settings=settings(),
        model=_chosen_model(_user(), choice),
        blobs=blobs(),
        budget=decode_budget(),
    )
    refused = [o.error for o in outcomes if o.error is not None]
    status = refusal_status(refused) if len(refused) == len(outcomes) else 200
    return answer(
        html=lambda: _page(outcomes, choice),
        json=lambda: _results_json(outcomes, status),
        status=status,
        headers=retry_headers(status, refused),
    )


def _results_json(outcomes: list[UploadOutcome], status: int) -> dict[str, Any] | Response:
    """Each photo's result; a single refused photo answers as the refusal itself."""
    if len(outcomes) == 1 and outcomes[0].error is not None:
        error = outcomes[0].error
        return error_response(status, refusal_text(error), code=error.code)
    rows = [o.classification for o in outcomes if o.classification is not None]
    classes = _classes_by_project(rows)
    return {"results": [_as_json(o, classes) for o in outcomes]}


@bp.get("/history")
@login_required
def history() -> str:
    before = valid_id(request.args.get("before", type=int))
    page = classifications.history(session=db.session(), user=_user(), before=before)
    return render_template(
        "classify/history.html",
        page=page,
        form=ConfirmForm(),
        before=before,
        classes_by_project=_classes_by_project(page.items),
    )


@bp.post("/history/<id:classification_id>/delete")
@login_required
def delete(classification_id: int) -> ResponseReturnValue:
    classifications.delete_classification(
        session=db.session(), user=_user(), classification_id=classification_id, blobs=blobs()
    )
    flash(words.deleted_one(), "success")
    before = valid_id(request.args.get("before", type=int))
    return redirect(url_for("classify.history", before=before))


@bp.post("/history/<id:classification_id>/feedback")
@login_required
def feedback(classification_id: int) -> ResponseReturnValue:
    """Label a project's prediction; scripts get JSON and correct in place, forms come back."""
    raw = request.form.get("class_id") or ""
    class_id = parse_id(raw)
    if class_id is None:
        raise ServiceError("class_required", correction=True)
    cls = give_feedback(
        session=db.session(),
        user=_user(),
        classification_id=classification_id,
        class_id=class_id,
        settings=settings(),
        blobs=blobs(),
        budget=decode_budget(),
    )
    request_embeddings(session=db.session(), queue=job_queue(), project=cls.project)
    message = words.labelled(cls.name)
    back = safe_next(request.form.get("next"), url_for("classify.history"))

    def back_to_history() -> Response:
        flash(message, "success")
        return redirect(f"{back.split('#')[0]}#classification-{classification_id}")

    return answer(
        html=back_to_history,
        json=lambda: {"class": {"id": cls.id, "name": cls.name}, "message": message},
    )


@bp.post("/history/delete-all")
@login_required
def delete_all() -> ResponseReturnValue:
    count = classifications.delete_history(session=db.session(), user=_user(), blobs=blobs())
    flash(words.deleted_many(count), "success")
    return redirect(url_for("classify.history"))


@bp.get("/media/classifications/<id:classification_id>/<kind>")
@login_required
def media(classification_id: int, kind: str) -> Response:
    if kind not in MEDIA_KINDS:
        abort(404)
    row = classifications.get_classification(
        session=db.session(), user=_user(), classification_id=classification_id
    )
    return photo_response(row, kind)
