"""Forms of the account page."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from mirada.services import timezones
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
    # Choices are set per request (timezone_choices); the service checks the zone.
    timezone = SelectField(_l("Time zone"), choices=[], validate_choice=False)


REGION_NAMES = {
    "Africa": _l("Africa"),
    "America": _l("America"),
    "Antarctica": _l("Antarctica"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic"),
    "Australia": _l("Australia"),
    "Europe": _l("Europe"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific"),
}


def _place(zone: str) -> str:
    """A zone's name in its group ("America/Argentina/Buenos_Aires": "Argentina / Buenos Aires")."""
    return zone.split("/", 1)[-1].replace("_", " ").replace("/", " / ")


def timezone_choices(*, detected: str | None, current: str | None) -> dict[Any, list[SelectChoice]]:
    """The zones grouped by region, after "my browser's zone" (``detected``) and UTC.
    ``current`` is offered too when it is a valid name outside the common list."""
    browser = (
        _l("My browser's time zone (%(zone)s)", zone=detected)
        if detected
        else _l("My browser's time zone")
    )
    general = [SelectChoice("", browser), SelectChoice("UTC", "UTC")]
    if current and current != "UTC" and current not in timezones.common_zones():
        general.append(SelectChoice(current, current))
    choices: dict[Any, list[SelectChoice]] = {_l("General"): general}
    for region, zones in timezones.zones_by_region().items():
        choices[REGION_NAMES[region]] = [SelectChoice(zone, _place(zone)) for zone in zones]
    return choices


class PasswordForm(FlaskForm):
    current_password = _current_password_field()
    new_password = new_password_field()
    confirm = confirm_password_field("new_password")


class DeleteAccountForm(FlaskForm):
    password = _current_password_field()
