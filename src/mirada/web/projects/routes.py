"""The project pages: classes and examples, uploads, training, versions and their metrics."""

from __future__ import annotations

from datetime import timedelta
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
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from mirada.db import Example, Job, ModelVersion, Project, ProjectClass, User, db
from mirada.db.job import FAILED, QUEUED, RUNNING, SUCCEEDED
from mirada.presenters.projects import skip_reason
from mirada.presenters.refusals import refusal_text
from mirada.runtime import blobs, decode_budget, settings
from mirada.services import classes as class_service
from mirada.services import examples as example_service
from mirada.services import jobs, projects, versions
from mirada.services.archives import SkippedEntry, unpacked_archive
from mirada.services.comparisons import same_examples
from mirada.services.errors import NotFound, ServiceError
from mirada.services.examples import ExampleOutcome, LabelledUpload
from mirada.services.feedback import least_confident
from mirada.services.quotas import Incoming
from mirada.services.training import (
    describe_issue,
    describe_job_error,
    pending_embeddings,
    request_embeddings,
    start_training,
    training_check,
)
from mirada.storage import BlobNotFound
from mirada.vision.confusion_plot import confusion_matrix_png
from mirada.web import formatting
from mirada.web.converters import parse_id, valid_id
from mirada.web.current_user import current_user, login_required
from mirada.web.errors import refusal_status, render_error, retry_headers, wants_json
from mirada.web.media import MEDIA_KINDS, attachment_header, photo_response
from mirada.web.projects.export import download_names, readme_intro
from mirada.web.projects.forms import ClassForm, ProjectForm, SettingsForm, parse_threshold
from mirada.web.projects.presenters import (
    comparison_text,
    evaluations_differ,
    method_text,
    serving_comparison,
    training_done_text,
)

bp = Blueprint("projects", __name__)

MAX_FILES_PER_REQUEST = 100
ACCEPT_IMAGES = "image/jpeg,image/png,image/webp,image/gif,image/bmp"
CARD_THUMBNAILS = 4
MAX_MISTAKES_SHOWN = 60
ACTIVE = (QUEUED, RUNNING)

Page = (
    str
    | Response
    | tuple[str, int]
    | tuple[Response, int]
    | tuple[str | Response, int, dict[str, str]]
)

STAGES = {
    "embedding": _l("Reading the photos"),
    "evaluating": _l("Evaluating on examples the model did not train on"),
    "training": _l("Training the final model"),
}


def _user() -> User:
    user = current_user()
    assert user is not None  # guaranteed by login_required
    return user


def _project(project_id: int) -> Project:
    return projects.get_project(session=db.session(), user=_user(), project_id=project_id)


def _class(project: Project, class_id: int) -> ProjectClass:
    return class_service.get_class(session=db.session(), project=project, class_id=class_id)


def _form_id(name: str) -> int | None:
    """An id sent in a form field, or None."""
    return parse_id(request.form.get(name, ""))


def _reap() -> None:
    jobs.reap_stalled_jobs(heartbeat_timeout=timedelta(seconds=settings().job_heartbeat_timeout_s))


# Jobs as the page and its script see them


def job_status(job: Job) -> str:
    """One sentence on where the job is."""
    if job.state == QUEUED:
        return _("Waiting to start…")
    if job.state == RUNNING:
        stage = STAGES.get(job.stage)
        percent = formatting.percent(job.progress, 0)
        if stage is None:
            return (
                _("Starting…") if not job.progress else _("Running… %(percent)s", percent=percent)
            )
        return _("%(stage)s… %(percent)s", stage=stage, percent=percent)
    if job.state == FAILED:
        return describe_job_error(job)
    if job.kind == "train" and "number" in (job.result or {}):
        project = db.session.get(Project, job.project_id)
        serving = project.serving_version if project is not None else None
        return training_done_text(
            job.result, serving_now=serving.number if serving is not None else None
        )
    return _("Done.")


def job_json(project: Project, job: Job) -> dict[str, Any]:
    """A job as the page's script (and later the API) sees it."""
    result = job.result if isinstance(job.result, dict) else {}
    number = result.get("number") if job.state == SUCCEEDED else None
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "progress": job.progress,
        "stage": job.stage,
        "status": job_status(job),
        "error": (
            {"code": job.error, "message": describe_job_error(job)} if job.state == FAILED else None
        ),
        "version": number,
        "serving_version": result.get("serving_number") if job.state == SUCCEEDED else None,
        "version_url": (
            url_for(".version", project_id=project.id, number=number) if number else None
        ),
        "url": url_for(".job", project_id=project.id, job_id=job.id),
    }


# The list of projects


def _index_page(form: ProjectForm | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "projects/index.html",
        summaries=projects.project_summaries(session=db.session(), user=_user()),
        form=form or ProjectForm(formdata=None),
    )
    return page, status


@bp.get("")
@login_required
def index() -> Page:
    return _index_page()


@bp.post("")
@login_required
def create() -> Page:
    form = ProjectForm()
    if not form.validate():
        if wants_json():
            return render_error(422, _first_error(form), code="invalid")
        return _index_page(form, 422)
    try:
        project = projects.create_project(
            session=db.session(),
            user=_user(),
            name=form.name.data or "",
            description=form.description.data or "",
        )
    except ServiceError as exc:
        if wants_json():
            raise
        form.name.errors = [*form.name.errors, refusal_text(exc)]
        return _index_page(form, _form_status(exc))
    flash(
        _("The project %(name)s has been created. Add its classes.", name=project.name), "success"
    )
    return redirect(url_for(".project", project_id=project.id))


def _form_status(error: ServiceError) -> int:
    """A refused form: 409 for a clash (a name in use), 404 for a missing object, else 422."""
    return error.status if error.status in (404, 409) else 422


def _first_error(form: Any) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return str(_("Check the form."))


# The project page


def _shown_job(project: Project) -> Job | None:
    """The job named in ``?job=`` when it is this project's, else the newest training."""
    job_id = valid_id(request.args.get("job", type=int))
    if job_id is not None:
        try:
            job = jobs.get_job(user=_user(), job_id=job_id)
        except NotFound:
            job = None
        if job is not None and job.project_id == project.id:
            return job
    return jobs.latest_job(project=project, kind="train")


def _embedding_job(project: Project, pending: int) -> Job | None:
    """The embedding under way; or, while photos still wait for one, the last one that
    failed, so that its cause shows instead of an endless "still being prepared"."""
    active = jobs.active_job(project=project, kind="embed")
    if active is not None or not pending:
        return active
    latest = jobs.latest_job(project=project, kind="embed")
    return latest if latest is not None and latest.state == FAILED else None


def _project_page(
    project: Project,
    *,
    status: int = 200,
    error: str | None = None,
    class_form: ClassForm | None = None,
    settings_form: SettingsForm | None = None,
) -> tuple[str, int]:
    _reap()
    pending = pending_embeddings(project=project)
    counts = projects.class_counts(session=db.session(), project=project)
    classes = list(project.classes)
    errors, warnings = training_check(project=project)
    version_list = versions.list_versions(session=db.session(), project=project)
    page = render_template(
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
        versions=version_list,
        uncertain=least_confident(session=db.session(), project=project),
        error=error,
        class_form=class_form or ClassForm(formdata=None, prefix="class"),
        settings_form=settings_form
        or SettingsForm(
            formdata=None,
            prefix="settings",
            name=project.name,
            description=project.description,
            threshold=format_decimal(project.threshold, "0.0##"),
        ),
        job_status=job_status,
        accept=ACCEPT_IMAGES,
    )
    return page, status


@bp.get("/<id:project_id>")
@login_required
def project(project_id: int) -> Page:
    return _project_page(_project(project_id))


@bp.post("/<id:project_id>/classes")
@login_required
def add_class(project_id: int) -> Page:
    project = _project(project_id)
    form = ClassForm(prefix="class")
    if not form.validate():
        if wants_json():
            return render_error(422, _first_error(form), code="invalid")
        return _project_page(project, status=422, class_form=form)
    try:
        cls = class_service.add_class(
            session=db.session(), project=project, name=form.name.data or ""
        )
    except ServiceError as exc:
        if wants_json():
            raise
        form.name.errors = [*form.name.errors, refusal_text(exc)]
        return _project_page(project, status=_form_status(exc), class_form=form)
    flash(_("The class %(name)s has been added.", name=cls.name), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="classes"))


@bp.post("/<id:project_id>/settings")
@login_required
def update_settings(project_id: int) -> Page:
    project = _project(project_id)
    form = SettingsForm(prefix="settings")
    if not form.validate():
        if wants_json():
            return render_error(422, _first_error(form), code="invalid")
        return _project_page(project, status=422, settings_form=form)
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
        if wants_json():
            raise
        field = form.threshold if exc.code.startswith("threshold") else form.name
        if exc.code.startswith("description"):
            field = form.description
        field.errors = [*field.errors, refusal_text(exc)]
        return _project_page(project, status=_form_status(exc), settings_form=form)
    flash(_("The project settings have been saved."), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="settings"))


@bp.post("/<id:project_id>/delete")
@login_required
def delete(project_id: int) -> Response:
    project = _project(project_id)
    name = project.name
    projects.delete_project(session=db.session(), project=project, blobs=blobs())
    flash(_("The project %(name)s has been deleted.", name=name), "success")
    return redirect(url_for(".index"))


# Uploads: photos for one class, or a zip with one folder per class


def _files(name: str) -> list[FileStorage]:
    return [f for f in request.files.getlist(name) if f and (f.filename or f.content_length)]


def _file_size(file: FileStorage) -> int:
    """The bytes of an uploaded file, measured without reading it."""
    size = file.stream.seek(0, 2)
    file.stream.seek(0)
    return size


def _outcome_json(project: Project, outcome: ExampleOutcome, name: str) -> dict[str, Any]:
    if outcome.error is not None:
        return {
            "file": name,
            "error": {"code": outcome.error.code, "message": refusal_text(outcome.error)},
        }
    assert outcome.example is not None
    return {"file": name, "example": _example_json(project, outcome.example)}


def _example_json(project: Project, example: Example) -> dict[str, Any]:
    return {
        "id": example.id,
        "class_id": example.class_id,
        "filename": example.filename,
        "thumbnail_url": url_for(
            ".media", project_id=project.id, example_id=example.id, kind="thumbnail"
        ),
    }


def _upload_answer(
    project: Project,
    outcomes: list[ExampleOutcome],
    names: list[str],
    *,
    skipped: list[SkippedEntry] | None = None,
    cls: ProjectClass | None = None,
) -> Page:
    """What became of each file, as a page or JSON; embeddings start in the background."""
    job = request_embeddings(project=project)
    added = [o for o in outcomes if o.example is not None]
    refused = [(name, o.error) for name, o in zip(names, outcomes, strict=True) if o.error]
    skipped_rows = [(s.filename, skip_reason(s.code)) for s in skipped or []]
    errors = [error for _name, error in refused if error is not None]
    if added:
        status = 200
    elif errors:
        status = refusal_status(errors)
    else:
        status = 400
    headers = retry_headers(status, errors)
    if wants_json():
        body = {
            "added": len(added),
            "results": [
                _outcome_json(project, o, name) for name, o in zip(names, outcomes, strict=True)
            ],
            "skipped": [
                {"file": name, "error": {"code": s.code, "message": str(message)}}
                for s, (name, message) in zip(skipped or [], skipped_rows, strict=True)
            ],
            "job": job_json(project, job) if job is not None else None,
        }
        return jsonify(body), status, headers
    page = render_template(
        "projects/upload.html",
        project=project,
        cls=cls,
        added=len(added),
        refused=[(name, refusal_text(error)) for name, error in refused if error is not None],
        skipped=[(name, str(message)) for name, message in skipped_rows],
        job=job,
    )
    return page, status, headers


@bp.post("/<id:project_id>/examples")
@login_required
def upload(project_id: int) -> Page:
    project = _project(project_id)
    raw = request.form.get("class_id", "").strip()
    if not raw:
        raise ServiceError("class_required", _l("Choose the class of the photos."))
    class_id = _form_id("class_id")
    if class_id is None:
        raise NotFound("class_not_found", _l("No such class."))
    cls = _class(project, class_id)
    files = _files("photos")
    if not files:
        raise ServiceError("no_files", _l("Choose at least one photo."))
    if len(files) > MAX_FILES_PER_REQUEST:
        raise ServiceError(
            "too_many_files",
            _l("Send at most %(n)d photos at a time.", n=MAX_FILES_PER_REQUEST),
        )
    upload_id = example_service.check_upload_id(request.form.get("upload_id", ""))
    outcomes = example_service.add_examples(
        session=db.session(),
        project=project,
        uploads=(LabelledUpload(cls.name, f.filename or "", f.read()) for f in files),
        settings=settings(),
        blobs=blobs(),
        budget=decode_budget(),
        upload_id=upload_id,
        incoming=Incoming(photos=len(files), size=sum(_file_size(f) for f in files)),
    )
    return _upload_answer(project, outcomes, [o.filename for o in outcomes], cls=cls)


@bp.get("/<id:project_id>/uploads")
@login_required
def upload_outcome(project_id: int) -> Response:
    """What arrived with an upload id: the page asks after a dropped connection."""
    project = _project(project_id)
    upload_id = example_service.check_upload_id(request.args.get("upload_id", ""))
    if upload_id is None:
        raise ServiceError("upload_id_required", _l("Give the upload id to look up."))
    examples = example_service.uploaded_examples(
        session=db.session(), project=project, upload_id=upload_id
    )
    response = jsonify(
        {"upload_id": upload_id, "examples": [_example_json(project, e) for e in examples]}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<id:project_id>/import")
@login_required
def import_archive(project_id: int) -> Page:
    project = _project(project_id)
    archive = request.files.get("archive")
    if archive is None or not (archive.filename or archive.content_length):
        raise ServiceError("no_archive", _l("Choose a zip file."))
    limits = settings()
    with unpacked_archive(
        archive.stream,
        workdir=limits.resolved_data_dir / "tmp",
        max_entries=limits.max_archive_entries,
        max_total_bytes=limits.max_archive_bytes,
        max_file_bytes=limits.max_upload_bytes,
    ) as (entries, skipped):
        if not entries and not skipped:
            raise ServiceError("archive_empty", _l("The archive holds no photos."))
        outcomes = example_service.add_examples(
            session=db.session(),
            project=project,
            uploads=(LabelledUpload(e.class_name, e.filename, e.read()) for e in entries),
            incoming=Incoming(
                photos=len(entries), size=sum(e.path.stat().st_size for e in entries)
            ),
            settings=limits,
            blobs=blobs(),
            budget=decode_budget(),
            create_classes=True,
        )
    names = [f"{e.class_name}/{o.filename}" for e, o in zip(entries, outcomes, strict=True)]
    return _upload_answer(project, outcomes, names, skipped=skipped)


# Training and its jobs


@bp.post("/<id:project_id>/train")
@login_required
def train(project_id: int) -> Page:
    project = _project(project_id)
    try:
        job = start_training(project=project)
    except ServiceError as exc:
        if wants_json():
            raise
        return _project_page(project, status=exc.status, error=refusal_text(exc))
    if wants_json():
        return jsonify({"job": job_json(project, job)}), 202
    return redirect(url_for(".project", project_id=project.id, job=job.id, _anchor="training"))


@bp.get("/<id:project_id>/jobs/<id:job_id>")
@login_required
def job(project_id: int, job_id: int) -> Response:
    project = _project(project_id)
    _reap()
    found = jobs.get_job(user=_user(), job_id=job_id)
    if found.project_id != project.id:
        raise NotFound("job_not_found", _l("No such job."))
    response = jsonify({"job": job_json(project, found)})
    response.headers["Cache-Control"] = "no-store"
    return response


# A class and its examples


def _class_page(
    project: Project,
    cls: ProjectClass,
    *,
    status: int = 200,
    error: str | None = None,
    rename_form: ClassForm | None = None,
) -> tuple[str | Response, int]:
    if status >= 400 and wants_json():
        message = error or (_first_error(rename_form) if rename_form else None)
        return render_error(status, message, code="invalid_request")
    after = valid_id(request.args.get("after", type=int))
    examples, next_after = example_service.list_examples(session=db.session(), cls=cls, after=after)
    page = render_template(
        "projects/class.html",
        project=project,
        cls=cls,
        count=projects.class_counts(session=db.session(), project=project).get(cls.id, 0),
        examples=examples,
        after=after,
        next_after=next_after,
        others=[other for other in project.classes if other.id != cls.id],
        rename_form=rename_form or ClassForm(formdata=None, prefix="rename", name=cls.name),
        error=error,
        accept=ACCEPT_IMAGES,
    )
    return page, status


@bp.get("/<id:project_id>/classes/<id:class_id>")
@login_required
def class_page(project_id: int, class_id: int) -> Page:
    project = _project(project_id)
    return _class_page(project, _class(project, class_id))


@bp.post("/<id:project_id>/classes/<id:class_id>/rename")
@login_required
def rename_class(project_id: int, class_id: int) -> Page:
    project = _project(project_id)
    cls = _class(project, class_id)
    form = ClassForm(prefix="rename")
    if not form.validate():
        if wants_json():
            return render_error(422, _first_error(form), code="invalid")
        return _class_page(project, cls, status=422, rename_form=form)
    try:
        class_service.rename_class(session=db.session(), cls=cls, name=form.name.data or "")
    except ServiceError as exc:
        if wants_json():
            raise
        form.name.errors = [*form.name.errors, refusal_text(exc)]
        return _class_page(project, cls, status=_form_status(exc), rename_form=form)
    flash(_("The class is now called %(name)s.", name=cls.name), "success")
    return redirect(url_for(".class_page", project_id=project.id, class_id=cls.id))


@bp.post("/<id:project_id>/classes/<id:class_id>/delete")
@login_required
def delete_class(project_id: int, class_id: int) -> Response:
    project = _project(project_id)
    cls = _class(project, class_id)
    name = cls.name
    class_service.delete_class(session=db.session(), cls=cls, blobs=blobs())
    flash(_("The class %(name)s and its examples have been deleted.", name=name), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="classes"))


@bp.post("/<id:project_id>/classes/<id:class_id>/merge")
@login_required
def merge_class(project_id: int, class_id: int) -> Page:
    project = _project(project_id)
    source = _class(project, class_id)
    target_id = _form_id("target_id")
    if target_id is None:
        raise ServiceError("target_required", _l("Choose the class to merge into."))
    target = _class(project, target_id)
    if target.id == source.id:
        return _class_page(
            project, source, status=400, error=str(_("Choose another class to merge into."))
        )
    source_name = source.name
    moved = class_service.merge_classes(session=db.session(), source=source, target=target)
    flash(
        ngettext(
            "%(num)d example of %(source)s moved into %(target)s.",
            "%(num)d examples of %(source)s moved into %(target)s.",
            moved,
            source=source_name,
            target=target.name,
        ),
        "success",
    )
    return redirect(url_for(".class_page", project_id=project.id, class_id=target.id))


@bp.post("/<id:project_id>/classes/<id:class_id>/examples")
@login_required
def change_examples(project_id: int, class_id: int) -> Page:
    """Move the ticked examples to another class, or delete them (two buttons, one form)."""
    project = _project(project_id)
    cls = _class(project, class_id)
    action = request.form.get("action", "")
    if action not in ("move", "delete"):
        raise ServiceError("action_invalid", _l("Choose what to do with the selected photos."))
    raw_ids = request.form.getlist("example_ids")
    ids = [parse_id(raw) for raw in raw_ids]
    if not ids:
        return _class_page(project, cls, status=400, error=str(_("Select at least one photo.")))
    if None in ids:
        raise NotFound("example_not_found", _l("No such example."))
    chosen = [i for i in ids if i is not None]
    back = url_for(".class_page", project_id=project.id, class_id=cls.id)
    if action == "delete":
        count = example_service.delete_examples(
            session=db.session(), project=project, example_ids=chosen, blobs=blobs()
        )
        flash(
            ngettext("%(num)d photo deleted.", "%(num)d photos deleted.", count),
            "success",
        )
        return redirect(back)
    target_id = _form_id("target_id")
    if target_id is None:
        return _class_page(
            project, cls, status=400, error=str(_("Choose the class to move the photos to."))
        )
    target = _class(project, target_id)
    count = example_service.move_examples(
        session=db.session(), project=project, example_ids=chosen, target=target
    )
    flash(
        ngettext(
            "%(num)d photo moved to %(name)s.",
            "%(num)d photos moved to %(name)s.",
            count,
            name=target.name,
        ),
        "success",
    )
    return redirect(back)


@bp.get("/<id:project_id>/examples/<id:example_id>/<kind>")
@login_required
def media(project_id: int, example_id: int, kind: str) -> Response:
    if kind not in MEDIA_KINDS:
        abort(404)
    example = example_service.get_example(
        session=db.session(), project=_project(project_id), example_id=example_id
    )
    return photo_response(example, kind)


# Versions


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


@bp.get("/<id:project_id>/versions/<id:number>")
@login_required
def version(project_id: int, number: int) -> Page:
    project = _project(project_id)
    found = _version(project, number)
    metrics = found.metrics or {}
    mistakes = _mistakes(metrics)
    examples = example_service.find_examples(
        session=db.session(), project=project, example_ids=[i for i, _m in mistakes]
    )
    names = found.class_names
    shown = [
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
    return render_template(
        "projects/version.html",
        project=project,
        version=found,
        metrics=metrics,
        method_text=method_text(metrics),
        comparison=serving_comparison(metrics),
        class_metrics=_class_metrics(found),
        warnings=[describe_issue(w.get("code", ""), w.get("params", {})) for w in found.warnings],
        mistakes=shown,
        mistake_count=len(mistakes),
        serving=project.serving_version_id == found.id,
    )


@bp.get("/<id:project_id>/versions/<id:number>/confusion.png")
@login_required
def confusion(project_id: int, number: int) -> Response:
    found = _version(_project(project_id), number)
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
    project = _project(project_id)
    found = _version(project, number)
    versions.pin_version(project=project, version=found)
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
    project = _project(project_id)
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
def delete_version(project_id: int, number: int) -> Page:
    project = _project(project_id)
    found = _version(project, number)
    try:
        versions.delete_version(session=db.session(), project=project, version=found, blobs=blobs())
    except ServiceError as exc:
        if wants_json():
            return render_error(409, refusal_text(exc), code=exc.code)
        return _project_page(project, status=409, error=refusal_text(exc))
    flash(_("Version %(number)d has been deleted.", number=number), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="versions"))


@bp.get("/<id:project_id>/versions/<id:number>/export")
@login_required
def export(project_id: int, number: int) -> Page:
    project = _project(project_id)
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
        return render_error(
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
def compare(project_id: int) -> Page:
    project = _project(project_id)
    a = valid_id(request.args.get("a", type=int))
    b = valid_id(request.args.get("b", type=int))
    if a is None or b is None:
        raise ServiceError("versions_required", _l("Choose two versions to compare."))
    left, right = _version(project, a), _version(project, b)
    older, newer = sorted((left, right), key=lambda version: version.number)
    names = list(dict.fromkeys([*left.class_names, *right.class_names]))
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
        names=names,
        left_classes=_class_metrics(left),
        right_classes=_class_metrics(right),
        left_method=method_text(left.metrics or {}),
        right_method=method_text(right.metrics or {}),
        differ=evaluations_differ(left, right),
        same=same,
        head_lost=head_lost,
        same_text=comparison_text(same) if same is not None else None,
    )
