"""The language switcher's form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField

from mirada.web.i18n import LANGUAGE_NAMES


class LanguageForm(FlaskForm):
    locale = SelectField(
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=True,
    )
    next = HiddenField()
