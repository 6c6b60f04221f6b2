"""Pages to sign in and out, and to reset a forgotten password."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from mirada.db.app_session import db
from mirada.presenters.refusals import refusal_text
from mirada.runtime import later, mailer
from mirada.services import accounts, password_reset
from mirada.services.errors import ServiceError
from mirada.web.auth.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm
from mirada.web.auth.mailing import mail_reset_link
from mirada.web.current_user import current_user, known_device, settings, sign_in, sign_out
from mirada.web.i18n import browser_timezone
from mirada.web.links import link_maker
from mirada.web.redirects import safe_next
from mirada.web.responses import form_refused
from mirada.web.throttled import Page, client_address

bp = Blueprint("auth", __name__)

# A refused sign-in: who you are is not known (401), or you may not come in (403).
SIGN_IN_STATUS = {"bad_credentials": 401, "account_disabled": 403}


def _home() -> str:
    return url_for("main.index")


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
    try:
        user = accounts.authenticate(
            session=db.session(),
            email=form.email.data or "",
            password=form.password.data or "",
            address=client_address(),
            known_device=known_device,
            limits=accounts.SignInLimits.from_settings(settings()),
            checkpoint=db.session.commit,  # no lock on the counters while the hash is checked
        )
    except ServiceError as exc:  # the failure stays counted: this view returns, so it commits
        status = SIGN_IN_STATUS.get(exc.code)
        return form_refused(
            form, lambda: render_template("auth/login.html", form=form), exc, status=status
        )
    accounts.adopt_timezone(user=user, timezone=browser_timezone())
    sign_in(user, remember=bool(form.remember.data))
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Page:
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password() -> Page:
    form = ForgotPasswordForm()
    if not form.is_submitted():
        return render_template("auth/forgot.html", form=form)
    if not form.validate():
        return render_template("auth/forgot.html", form=form), 422
    email, config = form.email.data or "", settings()
    try:
        password_reset.count_request(
            session=db.session(), settings=config, address=client_address(), email=email
        )
    except ServiceError as exc:
        return form_refused(form, lambda: render_template("auth/forgot.html", form=form), exc)
    later().submit(
        partial(
            mail_reset_link,
            settings=config,
            mailer=mailer(),
            email=email,
            link_for=link_maker("auth.reset_password", "token"),
        )
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
        password_reset.check_token(session=db.session(), token=token[:128])
    except ServiceError as exc:
        return render_template(
            "auth/link_invalid.html",
            message=refusal_text(exc),
            next_url=url_for("auth.forgot_password"),
            next_label=_("Ask for a new link"),
        ), 410
    if not form.is_submitted():
        return render_template("auth/reset.html", form=form)
    if not form.validate():
        return render_template("auth/reset.html", form=form), 422
    try:
        password_reset.redeem(
            session=db.session(), token=token, new_password=form.password.data or ""
        )
    except ServiceError as exc:
        # The new password, or its link that ended meanwhile: the words go under the field.
        return form_refused(
            form, lambda: render_template("auth/reset.html", form=form), exc, {"": form.password}
        )
    if current_user() is not None:
        sign_out()
    flash(_("Your password has been changed. Sign in with the new one."), "success")
    return redirect(url_for("auth.login"))
