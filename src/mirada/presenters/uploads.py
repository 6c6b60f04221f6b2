"""The words about examples arriving and moving: archive entries skipped, and the refusals of
the upload, import and selection forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording, say

SKIP_MESSAGES: dict[str, Wording] = {
    "not_in_class_folder": _l(
        "Not inside a class folder: put each photo in a folder named after its class."
    ),
    "too_large": _l("The file is larger than the upload limit."),
    "corrupt": _l("This entry of the archive is damaged and cannot be read."),
    "encrypted": _l("This entry of the archive is encrypted and cannot be read."),
    "link": _l("This is a link; links are not followed."),
}


def skip_text(code: str) -> str:
    """Why an archive entry was skipped (an unknown reason reads as a damaged entry)."""
    return say(SKIP_MESSAGES.get(code, SKIP_MESSAGES["corrupt"]), {})


def _class_required(params: Mapping[str, Any]) -> str:
    """A correction asks for the right class; an upload for the class of its photos."""
    if params.get("correction"):
        return _("Choose the right class.")
    return _("Choose the class of the photos.")


REFUSALS: dict[str, Wording] = {
    "class_required": _class_required,
    "no_files": _l("Choose at least one photo."),
    "too_many_files": _l("Send at most %(n)d photos at a time."),
    "upload_id_required": _l("Give the upload id to look up."),
    "no_archive": _l("Choose a zip file."),
    "archive_empty": _l("The archive holds no photos."),
    "target_required": _l("Choose the class to merge into."),
    "action_invalid": _l("Choose what to do with the selected photos."),
}
