"""Forms of the project pages."""

from __future__ import annotations

import math
import re
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mirada.services.projects import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH

DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def _name_field(label: Any) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(message=_l("Enter a name.")),
            Length(
                max=MAX_NAME_LENGTH,
                message=_l("Use at most %(n)d characters for the name.", n=MAX_NAME_LENGTH),
            ),
        ],
        render_kw={"maxlength": MAX_NAME_LENGTH, "autocomplete": "off"},
    )


def _description_field() -> TextAreaField:
    return TextAreaField(
        _l("Description"),
        validators=[
            Optional(),
            Length(
                max=MAX_DESCRIPTION_LENGTH,
                message=_l(
                    "Use at most %(n)d characters for the description.", n=MAX_DESCRIPTION_LENGTH
                ),
            ),
        ],
        render_kw={"maxlength": MAX_DESCRIPTION_LENGTH, "rows": 3},
    )


def parse_threshold(value: str | None) -> float | None:
    """The threshold typed in the form, or None when it is not a number from 0 to 1. A point
    is a decimal mark in every language, and so is the page language's own ("0,9" in Spanish)."""
    typed = (value or "").strip().replace(get_decimal_symbol(get_locale()), ".")
    if not DECIMAL.fullmatch(typed):
        return None
    number = float(typed)
    return number if math.isfinite(number) and 0.0 <= number <= 1.0 else None


def _threshold_valid(form: FlaskForm, field: StringField) -> None:
    if parse_threshold(field.data) is None:
        raise ValidationError(_l("The threshold must be a number from 0 to 1."))


class _Form(FlaskForm):
    """The app's CSRFProtect checks every POST already; several of these forms share a page
    under prefixes, which the form's own token field would not follow."""

    class Meta:
        csrf = False


class ProjectForm(_Form):
    """A new project."""

    name = _name_field(_l("Project name"))
    description = _description_field()


class ClassForm(_Form):
    """A new class, or a class's new name."""

    name = _name_field(_l("Class name"))


class SettingsForm(_Form):
    """A project's name, description and confidence threshold."""

    name = _name_field(_l("Project name"))
    description = _description_field()
    threshold = StringField(
        _l("Confidence threshold"),
        validators=[_threshold_valid],
        # Text, not type=number: browsers refuse "0,9" there whatever the page's language.
        render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": 32},
    )
