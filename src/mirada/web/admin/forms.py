"""Forms of the administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from mirada.services.accounts import MAX_EMAIL_LENGTH
from mirada.services.admin import MAX_PHOTO_LIMIT

WHOLE_NUMBER = _l("Enter a whole number of at least 1, or leave the field empty for the default.")


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)],
        render_kw={"autocomplete": "off", "maxlength": MAX_EMAIL_LENGTH},
    )


class LimitsForm(FlaskForm):
    """A user's own limits; an empty field means the default from the settings."""

    photo_limit = IntegerField(
        _l("Photos"),
        validators=[Optional(), NumberRange(min=1, max=MAX_PHOTO_LIMIT, message=WHOLE_NUMBER)],
    )
    storage_limit_mb = IntegerField(
        _l("Storage (MB)"),
        validators=[Optional(), NumberRange(min=1, max=1_000_000_000, message=WHOLE_NUMBER)],
    )
