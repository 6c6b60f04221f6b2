"""Trained versions: a version's page and confusion matrix, which one answers, delete,
download, and two versions side by side."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from mirada.db import ModelVersion, Project
from mirada.db.app_session import db
from mirada.presenters.jobs import describe_issue
from mirada.presenters.refusals import refusal_text
from mirada.presenters.versions import (
    comparison_text,
    evaluations_differ,
    method_text,
    serving_comparison,
)
from mirada.runtime import blobs, settings
from mirada.services import examples as example_service
from mirada.services import versions
from mirada.services.comparisons import same_examples
from mirada.services.errors import ServiceError
from mirada.storage import BlobNotFound
from mirada.vision.confusion_plot import confusion_matrix_png
from mirada.web.converters import valid_id
from mirada.web.current_user import login_required
from mirada.web.errors import error_response
from mirada.web.media import attachment_header
from mirada.web.projects import bp
from mirada.web.projects.common import owned_project, running_backbone
from mirada.web.projects.export import download_names, readme_intro
from mirada.web.projects.pages import project_page
from mirada.web.responses import answer

MAX_MISTAKES_SHOWN = 60


def _version(project: Project, number: int) -> ModelVersion:
    return versions.get_version(session=db.session(), project=project, number=number)


def _class_metrics(version: ModelVersion) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in (version.metrics or {}).get("classes", [])}


def _mistakes(metrics: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """Each misclassified example's id with its mistake (true and predicted class, confidence).

    The ids are a list parallel to ``mistakes`` (``mistake_example_ids``); older versions
    kept them inside each mistake (``example_id``).
    """
    mistakes = [m for m in metrics.get("mistakes", []) if isinstance(m, dict)]
    ids = metrics.get("mistake_example_ids")
    if isinstance(ids, list) and len(ids) == len(mistakes):
        return [(int(i), m) for i, m in zip(ids, mistakes, strict=True)]
    return [(int(m.get("example_id", 0)), m) for m in mistakes]


def _shown_mistakes(
    project: Project, version: ModelVersion, mistakes: list[tuple[int, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The mistakes whose example is still there, as the page lists them."""
    examples = example_service.find_examples(
        session=db.session(), project=project, example_ids=[i for i, _m in mistakes]
    )
    names = version.class_names
    return [
        {
            "example": examples[example_id],
            "true": names[m["true"]],
            "predicted": names[m["predicted"]],
            "confidence": m["confidence"],
        }
        for example_id, m in mistakes
        if example_id in examples
        and 0 <= m.get("true", -1) < len(names)
        and 0 <= m.get("predicted", -1) < len(names)
    ][:MAX_MISTAKES_SHOWN]


@bp.get("/<id:project_id>/versions/<id:number>")
@login_required
def version(project_id: int, number: int) -> str:
    project = owned_project(project_id)
    found = _version(project, number)
    metrics = found.metrics or {}
    mistakes = _mistakes(metrics)
    return render_template(
        "projects/version.html",
        project=project,
        version=found,
        metrics=metrics,
        method_text=method_text(metrics),
        comparison=serving_comparison(metrics),
        class_metrics=_class_metrics(found),
        warnings=[describe_issue(w.get("code", ""), w.get("params", {})) for w in found.warnings],
        mistakes=_shown_mistakes(project, found, mistakes),
        mistake_count=len(mistakes),
        serving=project.serving_version_id == found.id,
    )


@bp.get("/<id:project_id>/versions/<id:number>/confusion.png")
@login_required
def confusion(project_id: int, number: int) -> Response:
    found = _version(owned_project(project_id), number)
    matrix = (found.metrics or {}).get("confusion")
    if not matrix:
        abort(404)
    png = confusion_matrix_png(
        matrix,
        found.class_names,
        true_label=_("True class"),
        predicted_label=_("Predicted class"),
    )
    response = Response(png, content_type="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.post("/<id:project_id>/versions/<id:number>/serve")
@login_required
def serve(project_id: int, number: int) -> Response:
    project = owned_project(project_id)
    found = _version(project, number)
    versions.pin_version(project=project, version=found, backbone=running_backbone())
    flash(
        _(
            "Version %(number)d now answers new photos, also after the next trainings, until "
            "you choose otherwise.",
            number=found.number,
        ),
        "success",
    )
    return redirect(url_for(".project", project_id=project.id, _anchor="versions"))


@bp.post("/<id:project_id>/serving/newest")
@login_required
def serve_newest(project_id: int) -> Response:
    project = owned_project(project_id)
    newest = versions.serve_newest(session=db.session(), project=project)
    if newest is not None:
        flash(
            _(
                "Version %(number)d, the newest, now answers new photos, and each new version "
                "will as soon as it is trained.",
                number=newest.number,
            ),
            "success",
        )
    return redirect(url_for(".project", project_id=project.id, _anchor="versions"))


@bp.post("/<id:project_id>/versions/<id:number>/delete")
@login_required
def delete_version(project_id: int, number: int) -> Response:
    project = owned_project(project_id)
    found = _version(project, number)
    try:
        versions.delete_version(session=db.session(), project=project, version=found, blobs=blobs())
    except ServiceError as exc:
        text, code = refusal_text(exc), exc.code
        return answer(
            html=lambda: project_page(project, error=text),
            json=lambda: error_response(409, text, code=code),
            status=409,
        )
    flash(_("Version %(number)d has been deleted.", number=number), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="versions"))


@bp.get("/<id:project_id>/versions/<id:number>/export")
@login_required
def export(project_id: int, number: int) -> Response:
    project = owned_project(project_id)
    found = _version(project, number)
    try:
        bundle = versions.export_version(
            project=project,
            version=found,
            backbone_path=settings().resolved_model_path,
            blobs=blobs(),
            readme_intro=readme_intro(project, found),
        )
    except (OSError, BlobNotFound):
        return error_response(
            503,
            str(_l("The model files are not available right now. Try again later.")),
            code="model_unavailable",
        )
    response = Response(bundle, content_type="application/zip")
    response.headers["Content-Disposition"] = attachment_header(
        *download_names(project, found.number)
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<id:project_id>/compare")
@login_required
def compare(project_id: int) -> str:
    project = owned_project(project_id)
    a = valid_id(request.args.get("a", type=int))
    b = valid_id(request.args.get("b", type=int))
    if a is None or b is None:
        raise ServiceError("versions_required")
    left, right = _version(project, a), _version(project, b)
    older, newer = sorted((left, right), key=lambda version: version.number)
    same, head_lost = None, False
    if older.id != newer.id:
        try:
            same = same_examples(session=db.session(), older=older, newer=newer, blobs=blobs())
        except BlobNotFound:
            head_lost = True
    return render_template(
        "projects/compare.html",
        project=project,
        left=left,
        right=right,
        names=list(dict.fromkeys([*left.class_names, *right.class_names])),
        left_classes=_class_metrics(left),
        right_classes=_class_metrics(right),
        left_method=method_text(left.metrics or {}),
        right_method=method_text(right.metrics or {}),
        differ=evaluations_differ(left, right),
        same=same,
        head_lost=head_lost,
        same_text=comparison_text(same) if same is not None else None,
    )
