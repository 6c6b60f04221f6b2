# Type stubs for the parts of flask-babel 4.0 that Mirada uses (the package ships no
# py.typed). Signatures follow flask_babel/__init__.py; keep them in step on an upgrade.
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.support import NullTranslations, Translations
from flask import Flask

from .speaklater import LazyString as LazyString

_Number = float | Decimal | str

class Babel:
    def __init__(
        self,
        app: Flask | None = None,
        date_formats: dict[str, str | None] | None = None,
        configure_jinja: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> None: ...
    def init_app(
        self,
        app: Flask,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | Locale | None] | None = None,
        timezone_selector: Callable[[], str | tzinfo | None] | None = None,
    ) -> None: ...
    def list_translations(self) -> list[Locale]: ...
    @property
    def default_locale(self) -> Locale: ...
    @property
    def default_timezone(self) -> tzinfo: ...
    @property
    def domain(self) -> str: ...

def get_translations() -> Translations | NullTranslations: ...
def get_locale() -> Locale | None: ...
def get_timezone() -> tzinfo | None: ...
def refresh() -> None: ...
def force_locale(locale: str | Locale) -> AbstractContextManager[None]: ...
def to_user_timezone(datetime: datetime) -> datetime: ...
def to_utc(datetime: datetime) -> datetime: ...
def format_datetime(
    datetime: datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def format_date(
    date: date | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def format_time(
    time: time | datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def format_timedelta(
    datetime_or_timedelta: datetime | timedelta,
    granularity: str = "second",
    add_direction: bool = False,
    threshold: float = 0.85,
) -> str: ...
def format_number(number: _Number) -> str: ...
def format_decimal(number: _Number, format: str | None = None) -> str: ...
def format_currency(
    number: _Number,
    currency: str,
    format: str | None = None,
    currency_digits: bool = True,
    format_type: str = "standard",
) -> str: ...
def format_percent(number: _Number, format: str | None = None) -> str: ...
def format_scientific(number: _Number, format: str | None = None) -> str: ...
def gettext(string: str, **variables: Any) -> str: ...

_ = gettext

def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str: ...
def pgettext(context: str, string: str, **variables: Any) -> str: ...
def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> str: ...
def lazy_gettext(string: str, **variables: Any) -> LazyString: ...
def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyString: ...
def lazy_ngettext(singular: str, plural: str, num: int, **variables: Any) -> LazyString: ...
def lazy_npgettext(
    context: str, singular: str, plural: str, num: int, **variables: Any
) -> LazyString: ...

__all__ = [
    "Babel",
    "LazyString",
    "force_locale",
    "format_currency",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_percent",
    "format_scientific",
    "format_time",
    "format_timedelta",
    "get_locale",
    "get_timezone",
    "get_translations",
    "gettext",
    "lazy_gettext",
    "lazy_ngettext",
    "lazy_npgettext",
    "lazy_pgettext",
    "ngettext",
    "npgettext",
    "pgettext",
    "refresh",
    "to_user_timezone",
    "to_utc",
]
