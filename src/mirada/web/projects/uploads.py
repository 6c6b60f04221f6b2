"""Photos arriving: for one class, or a zip with one folder per class; and what arrived with
an upload id, for a page whose connection dropped."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from mirada.db import Example, Job, Project, ProjectClass
from mirada.db.app_session import db
from mirada.presenters.refusals import refusal_text
from mirada.presenters.uploads import skip_text
from mirada.runtime import blobs, decode_budget, job_queue, settings
from mirada.services import examples as example_service
from mirada.services.archives import SkippedEntry, unpacked_archive
from mirada.services.errors import NotFound, ServiceError
from mirada.services.examples import ExampleOutcome, LabelledUpload
from mirada.services.quotas import Incoming
from mirada.services.training import request_embeddings
from mirada.web.current_user import login_required
from mirada.web.errors import refusal_status, retry_headers
from mirada.web.projects import bp
from mirada.web.projects.common import form_id, owned_project, project_class
from mirada.web.projects.training import job_json
from mirada.web.responses import answer

MAX_FILES_PER_REQUEST = 100


def _files(name: str) -> list[FileStorage]:
    return [f for f in request.files.getlist(name) if f and (f.filename or f.content_length)]


def _file_size(file: FileStorage) -> int:
    """The bytes of an uploaded file, measured without reading it."""
    size = file.stream.seek(0, 2)
    file.stream.seek(0)
    return size


def _example_json(project: Project, example: Example) -> dict[str, Any]:
    return {
        "id": example.id,
        "class_id": example.class_id,
        "filename": example.filename,
        "thumbnail_url": url_for(
            ".media", project_id=project.id, example_id=example.id, kind="thumbnail"
        ),
    }


def _outcome_json(project: Project, outcome: ExampleOutcome, name: str) -> dict[str, Any]:
    if outcome.error is not None:
        return {
            "file": name,
            "error": {"code": outcome.error.code, "message": refusal_text(outcome.error)},
        }
    assert outcome.example is not None
    return {"file": name, "example": _example_json(project, outcome.example)}


def _upload_json(
    project: Project,
    outcomes: list[ExampleOutcome],
    names: list[str],
    skipped: list[SkippedEntry],
    job: Job | None,
) -> dict[str, Any]:
    return {
        "added": sum(1 for o in outcomes if o.example is not None),
        "results": [
            _outcome_json(project, o, name) for name, o in zip(names, outcomes, strict=True)
        ],
        "skipped": [
            {"file": s.filename, "error": {"code": s.code, "message": skip_text(s.code)}}
            for s in skipped
        ],
        "job": job_json(project, job) if job is not None else None,
    }


def _upload_answer(
    project: Project,
    outcomes: list[ExampleOutcome],
    names: list[str],
    *,
    skipped: list[SkippedEntry] | None = None,
    cls: ProjectClass | None = None,
) -> Response:
    """What became of each file, as a page or JSON; embeddings start in the background."""
    job = request_embeddings(queue=job_queue(), session=db.session(), project=project)
    added = [o for o in outcomes if o.example is not None]
    refused = [(name, o.error) for name, o in zip(names, outcomes, strict=True) if o.error]
    errors = [error for _name, error in refused if error is not None]
    status = 200 if added else refusal_status(errors) if errors else 400
    skips = skipped or []
    return answer(
        html=lambda: render_template(
            "projects/upload.html",
            project=project,
            cls=cls,
            added=len(added),
            refused=[(name, refusal_text(error)) for name, error in refused if error is not None],
            skipped=[(s.filename, skip_text(s.code)) for s in skips],
            job=job,
        ),
        json=lambda: _upload_json(project, outcomes, names, skips, job),
        status=status,
        headers=retry_headers(status, errors),
    )


@bp.post("/<id:project_id>/examples")
@login_required
def upload(project_id: int) -> Response:
    project = owned_project(project_id)
    raw = request.form.get("class_id", "").strip()
    if not raw:
        raise ServiceError("class_required")
    class_id = form_id("class_id")
    if class_id is None:
        raise NotFound("class_not_found")
    cls = project_class(project, class_id)
    files = _files("photos")
    if not files:
        raise ServiceError("no_files")
    if len(files) > MAX_FILES_PER_REQUEST:
        raise ServiceError("too_many_files", n=MAX_FILES_PER_REQUEST)
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
        checkpoint=db.session.commit,
    )
    return _upload_answer(project, outcomes, [o.filename for o in outcomes], cls=cls)


@bp.get("/<id:project_id>/uploads")
@login_required
def upload_outcome(project_id: int) -> Response:
    """What arrived with an upload id: the page asks after a dropped connection."""
    project = owned_project(project_id)
    upload_id = example_service.check_upload_id(request.args.get("upload_id", ""))
    if upload_id is None:
        raise ServiceError("upload_id_required")
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
def import_archive(project_id: int) -> Response:
    project = owned_project(project_id)
    archive = request.files.get("archive")
    if archive is None or not (archive.filename or archive.content_length):
        raise ServiceError("no_archive")
    limits = settings()
    with unpacked_archive(
        archive.stream,
        workdir=limits.unpack_dir,
        max_entries=limits.max_archive_entries,
        max_total_bytes=limits.max_archive_bytes,
        max_file_bytes=limits.max_upload_bytes,
    ) as (entries, skipped):
        if not entries and not skipped:
            raise ServiceError("archive_empty")
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
            checkpoint=db.session.commit,
        )
    names = [f"{e.class_name}/{o.filename}" for e, o in zip(entries, outcomes, strict=True)]
    return _upload_answer(project, outcomes, names, skipped=skipped)
