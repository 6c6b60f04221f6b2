"""Forms of the administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from mirada.services.accounts import MAX_EMAIL_LENGTH


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)],
        render_kw={"autocomplete": "off", "maxlength": MAX_EMAIL_LENGTH},
    )
