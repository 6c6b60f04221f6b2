"""A class and its examples: its page, rename, merge, delete, and moving or deleting the
ticked photos; the photos themselves."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from mirada.db import Project, ProjectClass
from mirada.db.app_session import db
from mirada.runtime import blobs
from mirada.services import classes, projects
from mirada.services import examples as example_service
from mirada.services.errors import NotFound, ServiceError
from mirada.web.converters import parse_id, valid_id
from mirada.web.current_user import login_required
from mirada.web.errors import error_response
from mirada.web.media import MEDIA_KINDS, photo_response
from mirada.web.projects import bp
from mirada.web.projects.common import (
    ACCEPT_IMAGES,
    ANY_CODE,
    form_id,
    owned_project,
    project_class,
)
from mirada.web.projects.forms import ClassForm
from mirada.web.responses import answer, form_refused


def _class_page(
    project: Project,
    cls: ProjectClass,
    *,
    error: str | None = None,
    rename_form: ClassForm | None = None,
) -> str:
    after = valid_id(request.args.get("after", type=int))
    examples, next_after = example_service.list_examples(session=db.session(), cls=cls, after=after)
    return render_template(
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


def _refused(project: Project, cls: ProjectClass, error: str) -> Response:
    """A request the class page cannot carry out: the page again saying why, or JSON."""
    return answer(
        html=lambda: _class_page(project, cls, error=error),
        json=lambda: error_response(400, error, code="invalid_request"),
        status=400,
    )


@bp.get("/<id:project_id>/classes/<id:class_id>")
@login_required
def class_page(project_id: int, class_id: int) -> str:
    project = owned_project(project_id)
    return _class_page(project, project_class(project, class_id))


@bp.post("/<id:project_id>/classes/<id:class_id>/rename")
@login_required
def rename_class(project_id: int, class_id: int) -> Response:
    project = owned_project(project_id)
    cls = project_class(project, class_id)
    form = ClassForm(prefix="rename")

    def page() -> str:
        return _class_page(project, cls, rename_form=form)

    if not form.validate():
        return form_refused(form, page)
    try:
        classes.rename_class(session=db.session(), cls=cls, name=form.name.data or "")
    except ServiceError as exc:
        return form_refused(form, page, exc, {ANY_CODE: form.name})
    flash(_("The class is now called %(name)s.", name=cls.name), "success")
    return redirect(url_for(".class_page", project_id=project.id, class_id=cls.id))


@bp.post("/<id:project_id>/classes/<id:class_id>/delete")
@login_required
def delete_class(project_id: int, class_id: int) -> Response:
    project = owned_project(project_id)
    cls = project_class(project, class_id)
    name = cls.name
    classes.delete_class(session=db.session(), cls=cls, blobs=blobs())
    flash(_("The class %(name)s and its examples have been deleted.", name=name), "success")
    return redirect(url_for(".project", project_id=project.id, _anchor="classes"))


@bp.post("/<id:project_id>/classes/<id:class_id>/merge")
@login_required
def merge_class(project_id: int, class_id: int) -> Response:
    project = owned_project(project_id)
    source = project_class(project, class_id)
    target_id = form_id("target_id")
    if target_id is None:
        raise ServiceError("target_required")
    target = project_class(project, target_id)
    if target.id == source.id:
        return _refused(project, source, _("Choose another class to merge into."))
    source_name = source.name
    moved = classes.merge_classes(session=db.session(), source=source, target=target)
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
def change_examples(project_id: int, class_id: int) -> Response:
    """Move the ticked examples to another class, or delete them (two buttons, one form)."""
    project = owned_project(project_id)
    cls = project_class(project, class_id)
    action = request.form.get("action", "")
    if action not in ("move", "delete"):
        raise ServiceError("action_invalid")
    ids = [parse_id(raw) for raw in request.form.getlist("example_ids")]
    if not ids:
        return _refused(project, cls, _("Select at least one photo."))
    if None in ids:
        raise NotFound("example_not_found")
    chosen = [i for i in ids if i is not None]
    back = url_for(".class_page", project_id=project.id, class_id=cls.id)
    if action == "delete":
        count = example_service.delete_examples(
            session=db.session(), project=project, example_ids=chosen, blobs=blobs()
        )
        flash(ngettext("%(num)d photo deleted.", "%(num)d photos deleted.", count), "success")
        return redirect(back)
    target_id = form_id("target_id")
    if target_id is None:
        return _refused(project, cls, _("Choose the class to move the photos to."))
    target = project_class(project, target_id)
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
        session=db.session(), project=owned_project(project_id), example_id=example_id
    )
    return photo_response(example, kind)
