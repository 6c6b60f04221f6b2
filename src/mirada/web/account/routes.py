"""The account page and its three forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from mirada.db import User
from mirada.presenters.refusals import refusal_text
from mirada.runtime import blobs, settings
from mirada.services import accounts, quotas, sessions
from mirada.services.errors import ServiceError, TooManyAttempts
from mirada.web.account.forms import (
    DeleteAccountForm,
    PasswordForm,
    ProfileForm,
    timezone_choices,
)
from mirada.web.current_user import current_user, login_required, session_token, sign_out
from mirada.web.i18n import browser_timezone

bp = Blueprint("account", __name__)

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


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
        session_count=sessions.count_sessions(user=user),
        standing=quotas.standing(user=user, settings=settings()),
        megabytes=quotas.megabytes,
    )
    return page, status


def _throttled(refusal: TooManyAttempts, **forms: FlaskForm) -> Page:
    """The account page with the refusal on the form that was throttled: 429, Retry-After."""
    for form in forms.values():
        form.form_errors.append(refusal_text(refusal))
    page, status = _page(429, **forms)
    return page, status, {"Retry-After": str(refusal.retry_after_s)}


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
        field = form.timezone if exc.code == "invalid_timezone" else form.display_name
        field.errors = [*field.errors, refusal_text(exc)]
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
            limits=accounts.SignInLimits.from_settings(settings()),
        )
    except TooManyAttempts as exc:
        return _throttled(exc, password=form)
    except ServiceError as exc:
        field = form.current_password if exc.code == "bad_current_password" else form.new_password
        field.errors = [*field.errors, refusal_text(exc)]
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
        accounts.delete_account(
            user=_user(),
            password=form.password.data or "",
            blobs=blobs(),
            limits=accounts.SignInLimits.from_settings(settings()),
        )
    except TooManyAttempts as exc:
        return _throttled(exc, delete=form)
    except ServiceError as exc:
        form.password.errors = [*form.password.errors, refusal_text(exc)]
        return _page(422, delete=form)
    sign_out()
    flash(_("Your account and its data have been deleted."), "info")
    return redirect(url_for("main.index"))
