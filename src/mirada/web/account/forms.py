"""Forms of the account page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from mirada.services.accounts import MAX_DISPLAY_NAME_LENGTH
from mirada.services.passwords import MAX_LENGTH
from mirada.web.forms import confirm_password_field, new_password_field
from mirada.web.i18n import LANGUAGE_NAMES


def _current_password_field() -> PasswordField:
    return PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=MAX_DISPLAY_NAME_LENGTH)],
        render_kw={"autocomplete": "name", "maxlength": MAX_DISPLAY_NAME_LENGTH},
    )
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("As my browser asks")),
            *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()),
        ],
        validate_choice=True,
    )


class PasswordForm(FlaskForm):
    current_password = _current_password_field()
    new_password = new_password_field()
    confirm = confirm_password_field("new_password")


class DeleteAccountForm(FlaskForm):
    password = _current_password_field()
