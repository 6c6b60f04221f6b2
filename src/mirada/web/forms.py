"""Small pieces shared by the forms of several blueprints."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from mirada.services.passwords import MAX_LENGTH, MIN_LENGTH


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


def new_password_field(label: str | None = None) -> PasswordField:
    """A new-password field with the policy's length bounds."""
    return PasswordField(
        label or _l("New password"),
        validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH},
    )


def confirm_password_field(other: str) -> PasswordField:
    """A field that must repeat ``other``."""
    return PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo(other, message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
