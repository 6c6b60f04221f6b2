"""The account page and its three forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import Field

from mirada.db import User
from mirada.db.app_session import db
from mirada.presenters.projects import megabytes
from mirada.runtime import blobs, settings
from mirada.services import accounts, quotas, sessions
from mirada.services.errors import ServiceError
from mirada.web.account.forms import (
    DeleteAccountForm,
    PasswordForm,
    ProfileForm,
    timezone_choices,
)
from mirada.web.current_user import (
    choices_changed,
    current_user,
    login_required,
    session_token,
    sign_out,
)
from mirada.web.i18n import browser_timezone
from mirada.web.responses import form_refused
from mirada.web.throttled import Page

bp = Blueprint("account", __name__)


def _user() -> User:
    user = current_user()
    assert user is not None  # guaranteed by login_required
    return user


def _profile_form(**data: Any) -> ProfileForm:
    """The profile form, with the time zones to choose from (the browser's named first)."""
    user = _user()
    form = ProfileForm(**data)
    form.timezone.choices = timezone_choices(detected=browser_timezone(), current=user.timezone)
    return form


def _page(status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    user = _user()
    profile = forms.get("profile") or _profile_form(
        formdata=None,
        display_name=user.display_name,
        locale=user.locale or "",
        timezone=user.timezone or "",
    )
    page = render_template(
        "account/index.html",
        profile_form=profile,
        password_form=forms.get("password") or PasswordForm(formdata=None),
        delete_form=forms.get("delete") or DeleteAccountForm(formdata=None),
        session_count=sessions.count_sessions(session=db.session(), user=user),
        standing=quotas.standing(session=db.session(), user=user, settings=settings()),
        megabytes=megabytes,
    )
    return page, status


def _refused(name: str, form: FlaskForm, error: ServiceError, fields: dict[str, Field]) -> Page:
    """The account page with ``error`` on the form ``name`` that was refused (under the field
    it is about, else above the form): 422, or 429 with Retry-After when throttled."""
    return form_refused(form, lambda: _page(**{name: form})[0], error, fields)


@bp.get("/")
@login_required
def index() -> Page:
    return _page()


@bp.post("/profile")
@login_required
def profile() -> Page:
    form = _profile_form()
    if not form.validate():
        return _page(422, profile=form)
    try:
        accounts.update_profile(
            user=_user(),
            display_name=form.display_name.data or "",
            locale=form.locale.data or None,
            timezone=form.timezone.data or None,
        )
    except ServiceError as exc:
        fields = {"invalid_timezone": form.timezone, "": form.display_name}
        return _refused("profile", form, exc, fields)
    choices_changed(_user())  # the message below is in the language just chosen
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
            session=db.session(),
            user=_user(),
            current_password=form.current_password.data or "",
            new_password=form.new_password.data or "",
            keep_session=session_token(),
            limits=accounts.SignInLimits.from_settings(settings()),
        )
    except ServiceError as exc:  # a wrong password stays counted: this view commits it
        fields = {"bad_current_password": form.current_password, "password": form.new_password}
        return _refused("password", form, exc, fields)
    flash(_("Your password has been changed. Your other sessions have been signed out."), "success")
    return redirect(url_for("account.index"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions() -> Page:
    ended = sessions.end_user_sessions(
        session=db.session(), user=_user(), keep_token=session_token()
    )
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
        files = accounts.delete_account(
            session=db.session(),
            user=_user(),
            password=form.password.data or "",
            limits=accounts.SignInLimits.from_settings(settings()),
        )
    except ServiceError as exc:
        return _refused("delete", form, exc, {"bad_current_password": form.password})
    db.session.commit()  # the rows go first: a failure here leaves files, never rows without them
    blobs().delete_prefix(files)
    sign_out()
    flash(_("Your account and its data have been deleted."), "info")
    return redirect(url_for("main.index"))
