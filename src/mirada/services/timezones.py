"""Time zones people choose: IANA names, checked against the zone database."""

from __future__ import annotations

import zoneinfo
from functools import cache

import pytz

from mirada.services.errors import ServiceError

MAX_LENGTH = 64
# The regions of the common, city-named zones, as the account page groups them.
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def known_zones() -> frozenset[str]:
    """Every name the zone database knows (aliases such as ``Asia/Calcutta`` included) that
    pytz, which Flask-Babel formats with, knows too."""
    names = zoneinfo.available_timezones() - {"localtime", "Factory"}
    return frozenset(names & pytz.all_timezones_set) | {"UTC"}


def is_known(name: str | None) -> bool:
    """Whether ``name`` is a time zone the database knows."""
    return bool(name) and len(name or "") <= MAX_LENGTH and name in known_zones()


def clean_timezone(name: str | None) -> str | None:
    """``name`` when it is a known zone, None when empty (follow the browser), else a refusal."""
    if not name:
        return None
    if not is_known(name):
        raise ServiceError("invalid_timezone")
    return name


@cache
def common_zones() -> frozenset[str]:
    """The zones worth offering in a list (no aliases or legacy names)."""
    return frozenset(pytz.common_timezones) & known_zones()


@cache
def zones_by_region() -> dict[str, list[str]]:
    """The common zones of each region, sorted: what a person picks from."""
    grouped: dict[str, list[str]] = {region: [] for region in REGIONS}
    for name in sorted(common_zones()):
        region = name.split("/", 1)[0]
        if region in grouped:
            grouped[region].append(name)
    return {region: names for region, names in grouped.items() if names}
