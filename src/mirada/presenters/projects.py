"""The words for projects, classes, examples, archives, quotas and versions.

Shared by the pages and the CLI: the same refusal reads the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording


def megabytes(n: int) -> str:
    """A byte count in megabytes, as people read it in their language."""
    return str(format_decimal(n / 1e6, "#,##0.#"))


def _duplicate(params: Mapping[str, Any]) -> str:
    if params.get("name") is None:
        return str(gettext("This photo is already in the project."))
    return str(
        gettext("This photo is already in the project, in the class %(name)s.", name=params["name"])
    )


def _photo_limit(params: Mapping[str, Any]) -> str:
    return str(
        gettext(
            "This would take you over your limit of %(limit)s photos (you keep %(used)s). "
            "Nothing was added: delete some photos or ask an administrator.",
            limit=format_decimal(params["limit"]),
            used=format_decimal(params["used"]),
        )
    )


def _storage_limit(params: Mapping[str, Any]) -> str:
    return str(
        gettext(
            "This would take you over your storage limit of %(limit)s MB (you use "
            "%(used)s MB). Nothing was added: delete some photos or ask an administrator.",
            limit=megabytes(params["limit"]),
            used=megabytes(params["used"]),
        )
    )


REFUSALS: dict[str, Wording] = {
    # names and descriptions
    "name_required": _l("Enter a name."),
    "name_too_long": _l("Use at most %(n)d characters for the name."),
    "name_invalid": _l("A name cannot contain slashes or control characters."),
    "description_too_long": _l("Use at most %(n)d characters for the description."),
    "description_invalid": _l("The description contains characters that are not allowed."),
    # projects and classes
    "project_exists": _l("You already have a project with this name."),
    "project_not_found": _l("No such project."),
    "threshold_invalid": _l("The threshold must be a number from 0 to 1."),
    "class_exists": _l("This project already has a class with this name."),
    "class_not_found": _l("No such class."),
    "too_many_classes": _l("A project can have at most %(n)d classes."),
    "merge_invalid": _l("Choose another class of the same project."),
    # examples and uploads
    "duplicate": _duplicate,
    "example_not_found": _l("No such example."),
    "upload_id_invalid": _l("An upload id has 8 to 64 letters, digits, hyphens or underscores."),
    "uploads_in_progress": _l(
        "Your other uploads are still being processed. Wait for them, then try again."
    ),
    "photo_limit": _photo_limit,
    "storage_limit": _storage_limit,
    # archives
    "bad_archive": _l("This file is not a valid zip archive."),
    "archive_too_many_entries": _l("The archive holds more than %(n)d files."),
    "archive_unsafe_path": _l("The archive holds an unsafe path: %(name)s"),
    "archive_link": _l("The archive holds a link, which is not allowed: %(name)s"),
    "archive_too_large": _l("The archive would unpack to more than %(mb)d MB."),
    # versions and feedback
    "version_not_found": _l("No such version."),
    "version_serving": _l("This version is in use. Choose another version to use first."),
    "already_labelled": _l("This photo is already labelled."),
}

# Why a file of an archive (or of a folder, from the CLI) was not imported, by its code.
