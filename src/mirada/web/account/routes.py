"""The account page and its three forms."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from mirada.db import User
from mirada.runtime import blobs, settings
from mirada.services import accounts, quotas, sessions
from mirada.services.errors import ServiceError
from mirada.web.account.forms import DeleteAccountForm, PasswordForm, ProfileForm
from mirada.web.current_user import current_user, login_required, session_token, sign_out

bp = Blueprint("account", __name__)

Page = str | Response | tuple[str, int]


def _user() -> User:
    user = current_user()
    assert user is not None  # guaranteed by login_required
    return user


def _page(status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    user = _user()
    profile = forms.get("profile") or ProfileForm(
        formdata=None, display_name=user.display_name, locale=user.locale or ""
    )
    page = render_template(
        "account/index.html",
        profile_form=profile,
        password_form=forms.get("password") or PasswordForm(formdata=None),
        delete_form=forms.get("delete") or DeleteAccountForm(formdata=None),
        session_count=sessions.count_sessions(user=user),
        standing=quotas.standing(user=user, settings=settings()),
        megabytes=quotas.megabytes,
    )
    return page, status


@bp.get("/")
@login_required
def index() -> Page:
    return _page()


@bp.post("/profile")
@login_required
def profile() -> Page:
    form = ProfileForm()
    if not form.validate():
        return _page(422, profile=form)
    try:
        accounts.update_profile(
            user=_user(), display_name=form.display_name.data or "", locale=form.locale.data or None
        )
    except ServiceError as exc:
        form.display_name.errors = [*form.display_name.errors, str(exc.message)]
        return _page(422, profile=form)
    flash(_("Your profile has been saved."), "success")
    return redirect(url_for("account.index"))


@bp.post("/password")
@login_required
def password() -> Page:
    form = PasswordForm()
    if not form.validate():
        return _page(422, password=form)
    try:
        accounts.change_password(
            user=_user(),
            current_password=form.current_password.data or "",
            new_password=form.new_password.data or "",
            keep_session=session_token(),
        )
    except ServiceError as exc:
        field = form.current_password if exc.code == "bad_current_password" else form.new_password
        field.errors = [*field.errors, str(exc.message)]
        return _page(422, password=form)
    flash(_("Your password has been changed. Your other sessions have been signed out."), "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions() -> Page:
    ended = sessions.end_user_sessions(user=_user(), keep_token=session_token())
    flash(
        ngettext(
            "%(num)d other browser has been signed out.",
            "%(num)d other browsers have been signed out.",
            ended,
        ),
        "success",
    )
    return redirect(url_for("account.index"))


@bp.post("/delete")
@login_required
def delete() -> Page:
    form = DeleteAccountForm()
    if not form.validate():
        return _page(422, delete=form)
    try:
        accounts.delete_account(user=_user(), password=form.password.data or "", blobs=blobs())
    except ServiceError as exc:
        form.password.errors = [*form.password.errors, str(exc.message)]
        return _page(422, delete=form)
    sign_out()
    flash(_("Your account and its data have been deleted."), "info")
    return redirect(url_for("main.index"))
