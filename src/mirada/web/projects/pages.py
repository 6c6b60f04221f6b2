"""The list of projects and a project's own page: create, settings, classes, delete."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mirada.db import Job, Project
from mirada.db.app_session import db
from mirada.db.job import FAILED
from mirada.presenters.jobs import describe_issue, job_status
from mirada.presenters.refusals import refusal_text
from mirada.runtime import blobs
from mirada.services import classes, jobs, projects, versions
from mirada.services import examples as example_service
from mirada.services.errors import Conflict, NotFound, ServiceError
from mirada.services.feedback import least_confident
from mirada.services.training import pending_embeddings, training_check
from mirada.web.converters import valid_id
from mirada.web.current_user import login_required
from mirada.web.projects import bp
from mirada.web.projects.common import (
    ACCEPT_IMAGES,
    ANY_CODE,
    owned_project,
    running_backbone,
    user,
)
from mirada.web.projects.forms import ClassForm, ProjectForm, SettingsForm, parse_threshold
from mirada.web.responses import form_refused

CARD_THUMBNAILS = 4


def serving_number(project: Project) -> int | None:
    """The number of the version that answers for ``project`` now."""
    serving = project.serving_version
    return serving.number if serving is not None else None


def status_of(project: Project) -> Callable[[Job], str]:
    """``job_status`` for the jobs of ``project``, as the page's template calls it."""
    serving_now = serving_number(project)
    return lambda job: job_status(job, serving_now=serving_now)


# The list of projects


def _index_page(form: ProjectForm | None = None) -> str:
    return render_template(
        "projects/index.html",
        summaries=projects.project_summaries(session=db.session(), user=user()),
        form=form or ProjectForm(formdata=None),
    )


@bp.get("")
@login_required
def index() -> str:
    return _index_page()


@bp.post("")
@login_required
def create() -> Response:
    form = ProjectForm()
    if not form.validate():
        return form_refused(form, lambda: _index_page(form))
    try:
        project = projects.create_project(
            session=db.session(),
            user=user(),
            name=form.name.data or "",
            description=form.description.data or "",
        )
    except ServiceError as exc:
        return form_refused(form, lambda: _index_page(form), exc, {ANY_CODE: form.name})
    flash(
        _("The project %(name)s has been created. Add its classes.", name=project.name), "success"
    )
    return redirect(url_for(".project", project_id=project.id))


# The project page


def _shown_job(project: Project) -> Job | None:
    """The job named in ``?job=`` when it is this project's, else the newest training."""
    job_id = valid_id(request.args.get("job", type=int))
    if job_id is not None:
        try:
            job = jobs.get_job(session=db.session(), user=user(), job_id=job_id)
        except NotFound:
            job = None
        if job is not None and job.project_id == project.id:
            return job
    return jobs.latest_job(session=db.session(), project=project, kind="train")


def _embedding_job(project: Project, pending: int) -> Job | None:
    """The embedding under way; or, while photos still wait for one, the last one that
    failed, so that its cause shows instead of an endless "still being prepared"."""
    active = jobs.active_job(session=db.session(), project=project, kind="embed")
    if active is not None or not pending:
        return active
    latest = jobs.latest_job(session=db.session(), project=project, kind="embed")
    return latest if latest is not None and latest.state == FAILED else None


def _settings_form(project: Project) -> SettingsForm:
    return SettingsForm(
        formdata=None,
        prefix="settings",
        name=project.name,
        description=project.description,
        threshold=format_decimal(project.threshold, "0.0##"),
    )


def project_page(
    project: Project,
    *,
    error: str | None = None,
    class_form: ClassForm | None = None,
    settings_form: SettingsForm | None = None,
) -> str:
    """The project's page; it reads the jobs' state (the job runner reaps lost ones)."""
    pending = pending_embeddings(session=db.session(), project=project)
    counts = projects.class_counts(session=db.session(), project=project)
    classes = list(project.classes)
    errors, warnings = training_check(session=db.session(), project=project)
    backbone = running_backbone()
    serving = project.serving_version
    return render_template(
        "projects/project.html",
        project=project,
        classes=classes,
        counts=counts,
        thumbnails={
            cls.id: example_service.list_examples(
                session=db.session(), cls=cls, limit=CARD_THUMBNAILS
            )[0]
            for cls in classes
        },
        example_total=sum(counts.values()),
        training_errors=[describe_issue(i.code, i.params) for i in errors],
        training_warnings=[describe_issue(i.code, i.params) for i in warnings],
        pending=pending,
        train_job=_shown_job(project),
        embed_job=_embedding_job(project, pending),
        versions=versions.list_versions(session=db.session(), project=project),
        backbone=backbone,
        other_model_notice=(
            refusal_text(Conflict("version_other_backbone", number=serving.number))
            if serving is not None and backbone and serving.backbone_version != backbone
            else None
        ),
        uncertain=least_confident(session=db.session(), project=project),
        error=error,
        class_form=class_form or ClassForm(formdata=None, prefix="class"),
        settings_form=settings_form or _settings_form(project),
        job_status=status_of(project),
        accept=ACCEPT_IMAGES,
    )


@bp.get("/<id:project_id>")
@login_required
def project(project_id: int) -> str:
    return project_page(owned_project(project_id))


@bp.post("/<id:project_id>/classes")
@login_required
def add_class(project_id: int) -> Response:
    project = owned_project(project_id)
    form = ClassForm(prefix="class")

    def page() -> str:
        return project_page(project, class_form=form)

    if not form.validate():
        return form_refused(form, page)
    try:
        cls = classes.add_class(session=db.session(), project=project, name=form.name.data or "")
    except ServiceError as exc:
        return form_refused(form, page, exc, {ANY_CODE: form.name})
    flash(_("The class %(name)s has been added.", name=cls.name), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="classes"))


@bp.post("/<id:project_id>/settings")
@login_required
def update_settings(project_id: int) -> Response:
    project = owned_project(project_id)
    form = SettingsForm(prefix="settings")

    def page() -> str:
        return project_page(project, settings_form=form)

    if not form.validate():
        return form_refused(form, page)
    threshold = parse_threshold(form.threshold.data)
    assert threshold is not None  # checked by the form
    try:
        projects.update_project(
            session=db.session(),
            project=project,
            name=form.name.data or "",
            description=form.description.data or "",
            threshold=threshold,
        )
    except ServiceError as exc:
        fields = {
            ANY_CODE: form.name,
            "threshold": form.threshold,
            "description": form.description,
        }
        return form_refused(form, page, exc, fields)
    flash(_("The project settings have been saved."), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="settings"))


@bp.post("/<id:project_id>/delete")
@login_required
def delete(project_id: int) -> Response:
    project = owned_project(project_id)
    name = project.name
    projects.delete_project(session=db.session(), project=project, blobs=blobs())
    flash(_("The project %(name)s has been deleted.", name=name), "success")
    return redirect(url_for(".index"))
