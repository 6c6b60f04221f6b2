"""Pages to register, sign in and out, and reset a forgotten password."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from mirada.services import accounts, password_reset
from mirada.services.errors import Conflict, ServiceError, TooManyAttempts
from mirada.web.auth.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from mirada.web.current_user import (
    current_user,
    known_device,
    settings,
    sign_in,
    sign_out,
)
from mirada.web.i18n import browser_timezone, select_locale
from mirada.web.redirects import safe_next

bp = Blueprint("auth", __name__)

Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


def _home() -> str:
    return url_for("main.index")


@bp.route("/register", methods=["GET", "POST"])
def register() -> Page:
    if current_user() is not None:
        return redirect(_home())
    form = RegisterForm()
    if not form.is_submitted():
        return render_template("auth/register.html", form=form)
    if not form.validate():
        return render_template("auth/register.html", form=form), 422
    try:
        user = accounts.register(
            email=form.email.data or "",
            password=form.password.data or "",
            display_name=form.display_name.data or "",
            locale=select_locale(),
            timezone=browser_timezone(),
        )
    except ServiceError as exc:
        if exc.code.startswith("password"):
            field = form.password
        elif exc.code.startswith("display_name"):
            field = form.display_name
        else:
            field = form.email
        field.errors = [*field.errors, str(exc.message)]
        return render_template("auth/register.html", form=form), (
            409 if isinstance(exc, Conflict) else 422
        )
    sign_in(user, remember=False)
    flash(_("Welcome to Mirada! Your account is ready."), "success")
    return redirect(_home())


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    next_url = safe_next(request.args.get("next"), _home())
    if current_user() is not None:
        return redirect(next_url)
    form = LoginForm()
    if not form.is_submitted():
        return render_template("auth/login.html", form=form)
    if not form.validate():
        return render_template("auth/login.html", form=form), 422
    config = settings()
    try:
        user = accounts.authenticate(
            email=form.email.data or "",
            password=form.password.data or "",
            address=request.remote_addr or "unknown",
            known_device=known_device,
            limits=accounts.SignInLimits(
                per_account=config.login_failures_per_account,
                per_address=config.login_failures_per_address,
                window=timedelta(seconds=config.login_window_s),
            ),
        )
    except TooManyAttempts as exc:
        form.form_errors.append(str(exc.message))
        page = render_template("auth/login.html", form=form)
        return page, 429, {"Retry-After": str(exc.retry_after_s)}
    except ServiceError as exc:
        form.form_errors.append(str(exc.message))
        status = 403 if exc.code == "account_disabled" else 401
        return render_template("auth/login.html", form=form), status
    accounts.adopt_timezone(user=user, timezone=browser_timezone())
    sign_in(user, remember=bool(form.remember.data))
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Page:
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def _reset_link(token: str) -> str:
    base = settings().base_url.rstrip("/")
    if base:
        return base + url_for("auth.reset_password", token=token)
    return url_for("auth.reset_password", token=token, _external=True)


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password() -> Page:
    form = ForgotPasswordForm()
    if not form.is_submitted():
        return render_template("auth/forgot.html", form=form)
    if not form.validate():
        return render_template("auth/forgot.html", form=form), 422
    password_reset.request_reset(
        settings=settings(), email=form.email.data or "", link_for=_reset_link
    )
    flash(
        _(
            "If an account exists for that address, we have sent it a link to choose a new "
            "password. Check your inbox."
        ),
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Page:
    form = ResetPasswordForm()
    try:
        password_reset.check_token(token=token[:128])
    except ServiceError as exc:
        return render_template("auth/reset_invalid.html", message=exc.message), 410
    if not form.is_submitted():
        return render_template("auth/reset.html", form=form)
    if not form.validate():
        return render_template("auth/reset.html", form=form), 422
    try:
        password_reset.redeem(token=token, new_password=form.password.data or "")
    except ServiceError as exc:
        form.password.errors = [*form.password.errors, str(exc.message)]
        return render_template("auth/reset.html", form=form), 422
    if current_user() is not None:
        sign_out()
    flash(_("Your password has been changed. Sign in with the new one."), "success")
    return redirect(url_for("auth.login"))
