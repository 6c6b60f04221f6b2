"""What the routes of the project pages share: the signed-in owner's objects, ids sent in
forms, and the limits of the upload forms."""

from __future__ import annotations

from flask import request

from mirada.db import Project, ProjectClass, User
from mirada.db.app_session import db
from mirada.inference import InferenceUnavailable
from mirada.runtime import inference
from mirada.services import classes, projects
from mirada.web.converters import parse_id
from mirada.web.current_user import current_user

ACCEPT_IMAGES = "image/jpeg,image/png,image/webp,image/gif,image/bmp"
ANY_CODE = ""  # in a form's field map (place_refusal): the field of every other refusal


def user() -> User:
    """The signed-in user (the routes are ``login_required``)."""
    found = current_user()
    assert found is not None  # guaranteed by login_required
    return found


def owned_project(project_id: int) -> Project:
    """The signed-in user's project ``project_id`` (another user's answers 404)."""
    return projects.get_project(session=db.session(), user=user(), project_id=project_id)


def running_backbone() -> str | None:
    """The version of the backbone Mirada runs now (what a version must have been trained
    on to answer), or None while the model cannot be asked."""
    try:
        return inference().model.version
    except InferenceUnavailable:
        return None


def project_class(project: Project, class_id: int) -> ProjectClass:
    """The class ``class_id`` of ``project``."""
    return classes.get_class(session=db.session(), project=project, class_id=class_id)


def form_id(name: str) -> int | None:
    """An id sent in a form field, or None."""
    return parse_id(request.form.get(name, ""))
