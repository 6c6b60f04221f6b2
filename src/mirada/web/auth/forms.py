"""Forms of the auth pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from mirada.services.accounts import MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH
from mirada.services.passwords import MAX_LENGTH
from mirada.web.forms import confirm_password_field, new_password_field


def _email_field() -> EmailField:
    return EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)],
        render_kw={"autocomplete": "email", "maxlength": MAX_EMAIL_LENGTH},
    )


def _display_name_field() -> StringField:
    return StringField(
        _l("Name (optional)"),
        validators=[Optional(), Length(max=MAX_DISPLAY_NAME_LENGTH)],
        render_kw={"autocomplete": "name", "maxlength": MAX_DISPLAY_NAME_LENGTH},
    )


class RegisterForm(FlaskForm):
    email = _email_field()
    display_name = _display_name_field()
    password = new_password_field(_l("Password"))
    confirm = confirm_password_field("password")


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Remember me"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = new_password_field()
    confirm = confirm_password_field("password")


class ConfirmAccountForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class InvitationForm(FlaskForm):
    display_name = _display_name_field()
    password = new_password_field(_l("Password"))
    confirm = confirm_password_field("password")
