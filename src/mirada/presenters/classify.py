"""How classifying photos and the history read to a person: refusals, confirmations, the
model's human name, class names in the reader's language, the right-class choices.

An ImageNet classification stores its predictions with the model's English labels and
class indices; what is shown is looked up by index in the labels catalog, so a page in
Spanish says "gato egipcio" and the JSON keeps the English name and the WordNet id beside
it. A project's classes are the owner's own names and are shown as they were stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording
from mirada.vision.labels import imagenet_label

REFUSALS: dict[str, Wording] = {
    "classification_not_found": _l("No such classification."),
    "project_not_trained": _l("This project has no trained version yet. Train it first."),
    "version_other_backbone": _l(
        "Version %(number)d was trained with another model than the one Mirada runs now, so "
        "its answers would be wrong. Train the project again: it takes a moment."
    ),
}


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


class Shown(Protocol):
    """A stored classification as these words read it (``mirada.db.Classification``)."""

    @property
    def project_id(self) -> int | None: ...
    @property
    def predictions(self) -> list[dict[str, Any]]: ...
    @property
    def top_label(self) -> str: ...
    @property
    def model_name(self) -> str: ...
    @property
    def model_version(self) -> str: ...
    @property
    def feedback_class_id(self) -> int | None: ...


class NamedClass(Protocol):
    """One of a project's classes (``mirada.db.ProjectClass``)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...


C = TypeVar("C", bound=NamedClass)


def _language(language: str | None) -> str:
    return language if language is not None else str(get_locale())


def shown_predictions(row: Shown, language: str | None = None) -> list[dict[str, Any]]:
    """The row's predictions in ``language`` (default: the request's), most probable first.

    ImageNet predictions carry ``index``, ``label`` (in that language), ``label_en``,
    ``wnid`` and ``score``; a project's keep ``index``, ``label`` and ``score``.
    """
    if row.project_id is not None:
        return row.predictions
    language = _language(language)
    return [
        {"index": p["index"], **imagenet_label(p["index"]).fields(language), "score": p["score"]}
        for p in row.predictions
    ]


def shown_top_label(row: Shown, language: str | None = None) -> str:
    """The name of the row's most probable class in ``language`` (default: the request's)."""
    if row.project_id is not None:
        return row.top_label
    return imagenet_label(row.predictions[0]["index"]).name(_language(language))


def model_label(row: Shown) -> str:
    """ "ImageNet (1000 classes)", or the project's name and its version number."""
    return model_name(project_id=row.project_id, name=row.model_name, version=row.model_version)


def predicted_class(row: Shown, classes: Sequence[C]) -> C | None:
    """The project class the model named first (the preselected right class), if it still exists."""
    return next((cls for cls in classes if cls.name == row.top_label), None)


def feedback_json(row: Shown, classes: Sequence[NamedClass], url: str) -> dict[str, Any]:
    """What a page's script needs to offer the right-class choice for a project's prediction."""
    predicted = predicted_class(row, classes)
    return {
        "url": url,
        "class_id": row.feedback_class_id,
        "predicted_class_id": predicted.id if predicted else None,
        "classes": [{"id": cls.id, "name": cls.name} for cls in classes],
    }
