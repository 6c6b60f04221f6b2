"""The words of classifying photos and of the history: refusals, confirmations, model names."""

from __future__ import annotations

from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording

REFUSALS: dict[str, Wording] = {
    "classification_not_found": _l("No such classification."),
    "project_not_trained": _l("This project has no trained version yet. Train it first."),
}

# Refusals the Classify and History pages raise themselves. Their codes are shared with
# other forms that word them differently ("class_required"), so they travel as the
# refusal's message rather than through REFUSALS.
NO_FILES = _l("Choose at least one photo.")
RIGHT_CLASS_REQUIRED = _l("Choose the right class.")
NO_SUCH_PROJECT = _l("No such project.")


def too_many_files(n: int) -> LazyString:
    """The refusal of a request with more than ``n`` photos."""
    return _l("Send at most %(n)d photos at a time.", n=n)


def imagenet_name() -> str:
    """How the choice of the backbone's own classes is named."""
    return str(_("ImageNet (1000 classes)"))


def model_name(*, project_id: int | None, name: str, version: str) -> str:
    """ "ImageNet (1000 classes)", or a project's name and its version number."""
    if project_id is None:
        return imagenet_name()
    return str(_("%(name)s, version %(version)s", name=name, version=version))


def deleted_one() -> str:
    """The confirmation of a deleted classification."""
    return str(_("The classification has been deleted."))


def deleted_many(count: int) -> str:
    """The confirmation of a deleted history."""
    return str(
        ngettext(
            "%(num)d classification has been deleted.",
            "%(num)d classifications have been deleted.",
            count,
        )
    )


def labelled(class_name: str) -> str:
    """The thanks for labelling a project's prediction."""
    return str(_("Thank you. The photo is now an example of %(name)s.", name=class_name))
