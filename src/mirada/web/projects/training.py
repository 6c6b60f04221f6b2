"""Training and its jobs: the Train button, and a job as the page's script polls it."""

from __future__ import annotations

from typing import Any

from flask import jsonify, redirect, url_for
from werkzeug.wrappers import Response

from mirada.db import Job, Project
from mirada.db.app_session import db
from mirada.db.job import FAILED, SUCCEEDED
from mirada.presenters.jobs import describe_job_error, job_status
from mirada.presenters.refusals import refusal_text
from mirada.runtime import job_queue
from mirada.services import jobs
from mirada.services.errors import NotFound, ServiceError
from mirada.services.training import start_training
from mirada.web.current_user import login_required
from mirada.web.errors import refusal_response
from mirada.web.projects import bp
from mirada.web.projects.common import owned_project, user
from mirada.web.projects.pages import project_page, serving_number
from mirada.web.responses import answer


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
        "status": job_status(job, serving_now=serving_number(project)),
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


@bp.post("/<id:project_id>/train")
@login_required
def train(project_id: int) -> Response:
    project = owned_project(project_id)
    try:
        job = start_training(queue=job_queue(), session=db.session(), project=project)
    except ServiceError as exc:
        refusal = exc  # the lambdas outlive the name ``exc``
        return answer(
            html=lambda: project_page(project, error=refusal_text(refusal)),
            json=lambda: refusal_response(refusal),
            status=refusal.status,
        )
    return answer(
        html=lambda: redirect(
            url_for(".project", project_id=project.id, job=job.id, _anchor="training")
        ),
        json=lambda: {"job": job_json(project, job)},
        status=202,
    )


@bp.get("/<id:project_id>/jobs/<id:job_id>")
@login_required
def job(project_id: int, job_id: int) -> Response:
    """Where a job is; it reads the job's state (the job runner reaps lost ones).

    The job is read before its project, so that a job seen finished is worded with the
    version its end made the answering one (both were committed together).
    """
    found = jobs.get_job(session=db.session(), user=user(), job_id=job_id)
    project = owned_project(project_id)
    if found.project_id != project.id:
        raise NotFound("job_not_found")
    response = jsonify({"job": job_json(project, found)})
    response.headers["Cache-Control"] = "no-store"
    return response
