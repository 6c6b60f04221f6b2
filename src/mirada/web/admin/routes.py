"""The user list, the actions administrators take on accounts, and invitations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mirada.db.app_session import db
from mirada.presenters.accounts import change_done
from mirada.presenters.projects import megabytes
from mirada.presenters.refusals import refusal_text
from mirada.runtime import settings
from mirada.services import admin, quotas, signups
from mirada.services.errors import ServiceError
from mirada.web.admin.forms import InviteForm, LimitsForm
from mirada.web.current_user import admin_required, current_user
from mirada.web.forms import ConfirmForm
from mirada.web.links import external_url
from mirada.web.redirects import safe_next
from mirada.web.responses import form_refused

bp = Blueprint("admin", __name__)


@bp.get("/users")
@admin_required
def users() -> str:
    search = request.args.get("q", "")
    page = request.args.get("page", 1, type=int) or 1
    result = admin.list_users(session=db.session(), search=search, page=page)
    config = settings()
    return render_template(
        "admin/users.html",
        result=result,
        search=search,
        form=ConfirmForm(),
        usage=quotas.usage_by_user(
            session=db.session(), user_ids=[user.id for user in result.users]
        ),
        limits={user.id: quotas.limits(user=user, settings=config) for user in result.users},
        megabytes=megabytes,
    )


@bp.post("/users/<id:user_id>/limits")
@admin_required
def user_limits(user_id: int) -> Response:
    """Set a user's own photo and storage limits (empty: the defaults)."""
    target = admin.get_user(session=db.session(), user_id=user_id)
    back = safe_next(request.form.get("next"), url_for("admin.users"))
    form = LimitsForm()
    if not form.validate():
        errors = [str(e) for field in form for e in field.errors] or [_("Check the form.")]
        flash(errors[0], "error")
        return redirect(back)
    megabytes = form.storage_limit_mb.data
    try:
        admin.set_limits(
            target=target,
            photos=form.photo_limit.data,
            storage_bytes=megabytes * 1_000_000 if megabytes is not None else None,
        )
    except ServiceError as exc:
        flash(refusal_text(exc), "error")
        return redirect(back)
    flash(_("The limits of %(email)s have been saved.", email=target.email), "success")
    return redirect(back)


@bp.post("/users/<id:user_id>/<action>")
@admin_required
def user_action(user_id: int, action: str) -> Response:
    if action not in admin.CHANGES:
        abort(404)
    actor = current_user()
    assert actor is not None  # guaranteed by admin_required
    target = admin.get_user(session=db.session(), user_id=user_id)
    back = safe_next(request.form.get("next"), url_for("admin.users"))
    try:
        admin.change_account(session=db.session(), actor=actor, target=target, change=action)
    except ServiceError as exc:
        flash(refusal_text(exc), "error")
        return redirect(back)
    flash(change_done(action, email=target.email), "success")
    return redirect(back)


@bp.route("/invitations", methods=["GET", "POST"])
@admin_required
def invitations() -> ResponseReturnValue:
    form = InviteForm()
    if not form.is_submitted():
        return render_template("admin/invitations.html", form=form, link=None)
    if not form.validate():
        return render_template("admin/invitations.html", form=form, link=None), 422
    config = settings()
    try:
        token = signups.invite(
            session=db.session(),
            settings=config,
            email=form.email.data or "",
            invited_by=current_user(),
        )
    except ServiceError as exc:
        return form_refused(
            form,
            lambda: render_template("admin/invitations.html", form=form, link=None),
            exc,
            {"": form.email},
        )
    return render_template(
        "admin/invitations.html",
        form=InviteForm(formdata=None),
        link=external_url("signup.invitation", token=token),
        invited_email=form.email.data,
        valid_days=max(1, config.invitation_max_age_s // 86400),
    )
