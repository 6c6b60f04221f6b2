"""Small pieces shared by the forms of several blueprints."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from mirada.presenters.refusals import refusal_text
from mirada.services.errors import Conflict, RetryLater, ServiceError
from mirada.services.passwords import MAX_LENGTH, MIN_LENGTH


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


def new_password_field(label: str | LazyString | None = None) -> PasswordField:
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


def place_refusal(
    form: FlaskForm, error: ServiceError, fields: Mapping[str, Field] | None = None
) -> int:
    """Show ``error`` on ``form`` and return the status to answer with.

    The words go under the field whose key is the longest prefix of the error's code
    (``{"password": form.password}`` takes ``password_too_short``), else above the form.
    A conflict answers 409, a refusal that may succeed later its own 429 or 503, the rest 422.
    """
    text = refusal_text(error)
    matches = [key for key in (fields or {}) if error.code.startswith(key)]
    if matches:
        field = (fields or {})[max(matches, key=len)]
        field.errors = [*field.errors, text]
    else:
        form.form_errors.append(text)
    if isinstance(error, RetryLater):
        return error.status  # 429 throttled, 503 busy
    return 409 if isinstance(error, Conflict) else 422
