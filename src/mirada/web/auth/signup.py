"""Pages to create an account, as ``MIRADA_SIGNUP`` allows: at once, after confirming the
address by mail, or through an administrator's invitation."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import Field

from mirada.db import User
from mirada.db.app_session import db
from mirada.presenters.refusals import refusal_text
from mirada.runtime import later, mailer, settings
from mirada.services import accounts, signups
from mirada.services.errors import ServiceError
from mirada.web.auth.forms import ConfirmAccountForm, InvitationForm, RegisterForm
from mirada.web.auth.mailing import mail_account_request
from mirada.web.current_user import current_user, sign_in
from mirada.web.errors import render_error
from mirada.web.i18n import browser_timezone, select_locale
from mirada.web.links import external_url, link_maker
from mirada.web.responses import form_refused
from mirada.web.throttled import Page, client_address

bp = Blueprint("signup", __name__)


def _home() -> str:
    return url_for("main.index")


def _fields(form: RegisterForm | InvitationForm) -> dict[str, Field]:
    """Where a refusal goes: under the password or the name; on the register page, the
    rest (the address, taken or not one) under the email; else above the form."""
    fields: dict[str, Field] = {"password": form.password, "display_name": form.display_name}
    if isinstance(form, RegisterForm):
        fields.update({"invalid_email": form.email, "email": form.email})
    return fields


def _welcome(user: User) -> None:
    """Sign the new account in, in the browser's time zone, and greet it."""
    sign_in(user, remember=False)
    accounts.adopt_timezone(user=user, timezone=browser_timezone())
    flash(_("Welcome to Mirada! Your account is ready."), "success")


@bp.route("/register", methods=["GET", "POST"])
def register() -> Page:
    mode = settings().signup
    if mode == "closed":
        abort(404)
    if mode == "invite":
        return render_error(
            403, _("Accounts here are made by invitation only. Ask an administrator for one.")
        )
    if current_user() is not None:
        return redirect(_home())
    form = RegisterForm()
    if not form.is_submitted():
        return render_template("auth/register.html", form=form)
    if not form.validate():
        return render_template("auth/register.html", form=form), 422
    if mode == "verified":
        return _request_account(form)
    try:
        user = signups.register(
            session=db.session(),
            settings=settings(),
            address=client_address(),
            email=form.email.data or "",
            password=form.password.data or "",
            display_name=form.display_name.data or "",
            locale=select_locale(),
            timezone=browser_timezone(),
        )
    except ServiceError as exc:
        return form_refused(
            form, lambda: render_template("auth/register.html", form=form), exc, _fields(form)
        )
    _welcome(user)
    return redirect(_home())


def _request_account(form: RegisterForm) -> Page:
    """Verified mode: the same page, as fast, whether the address has an account or not."""
    config = settings()
    try:
        request = signups.check_account_request(
            session=db.session(),
            settings=config,
            address=client_address(),
            email=form.email.data or "",
            password=form.password.data or "",
            display_name=form.display_name.data or "",
            locale=select_locale(),
        )
    except ServiceError as exc:
        return form_refused(
            form, lambda: render_template("auth/register.html", form=form), exc, _fields(form)
        )
    later().submit(
        partial(
            mail_account_request,
            settings=config,
            mailer=mailer(),
            request=request,
            confirm_link=link_maker("signup.confirm", "token"),
            sign_in_link=external_url("auth.login"),
        )
    )
    return render_template("auth/check_mail.html")


def _invalid_link(exc: ServiceError) -> Page:
    return render_template(
        "auth/link_invalid.html",
        message=refusal_text(exc),
        next_url=url_for("auth.login"),
        next_label=_("Sign in"),
    ), 410


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Page:
    try:
        pending = signups.check_link(session=db.session(), token=token[:128], kind=signups.VERIFY)
    except ServiceError as exc:
        return _invalid_link(exc)
    form = ConfirmAccountForm()
    page = "auth/confirm.html"
    if not form.is_submitted():
        return render_template(page, form=form, email=pending.email)
    if not form.validate():
        return render_template(page, form=form, email=pending.email), 422
    try:
        user = signups.confirm_account(
            session=db.session(),
            token=token,
            password=form.password.data or "",
            limits=accounts.SignInLimits.from_settings(settings()),
        )
    except ServiceError as exc:  # a wrong password stays counted: this view commits it
        status = 401 if exc.code == "not_the_chosen_password" else None
        codes = ("not_the_chosen_password", "email_taken", "invalid_signup_link")
        fields: dict[str, Field] = dict.fromkeys(codes, form.password)  # throttled: above
        return form_refused(
            form,
            lambda: render_template(page, form=form, email=pending.email),
            exc,
            fields,
            status=status,
        )
    _welcome(user)
    return redirect(_home())


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Page:
    try:
        invited = signups.check_link(session=db.session(), token=token[:128], kind=signups.INVITE)
    except ServiceError as exc:
        return _invalid_link(exc)
    form = InvitationForm()
    page = "auth/invitation.html"
    if not form.is_submitted():
        return render_template(page, form=form, email=invited.email)
    if not form.validate():
        return render_template(page, form=form, email=invited.email), 422
    try:
        user = signups.accept_invitation(
            session=db.session(),
            token=token,
            password=form.password.data or "",
            display_name=form.display_name.data or "",
            locale=select_locale(),
        )
    except ServiceError as exc:
        return form_refused(
            form, lambda: render_template(page, form=form, email=invited.email), exc, _fields(form)
        )
    _welcome(user)
    return redirect(_home())
