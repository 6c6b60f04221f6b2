"""How a classification reads to a person: class names in their language, the model's human
name, the right-class choices.

An ImageNet classification stores its predictions with the model's English labels and
class indices; what is shown is looked up by index in the labels catalog, so a page in
Spanish says "gato egipcio" and the JSON keeps the English name and the WordNet id beside
it. A project's classes are the owner's own names and are shown as they were stored.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from mirada.db import Classification, ProjectClass
from mirada.presenters.classify import model_name
from mirada.vision.labels import imagenet_label


def _language(language: str | None) -> str | None:
    return language if language is not None else str(get_locale())


def shown_predictions(row: Classification, language: str | None = None) -> list[dict[str, Any]]:
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


def shown_top_label(row: Classification, language: str | None = None) -> str:
    """The name of the row's most probable class in ``language`` (default: the request's)."""
    if row.project_id is not None:
        return row.top_label
    return imagenet_label(row.predictions[0]["index"]).name(_language(language))


def model_label(row: Classification) -> str:
    """ "ImageNet (1000 classes)", or the project's name and its version number."""
    return model_name(project_id=row.project_id, name=row.model_name, version=row.model_version)


def predicted_class(row: Classification, classes: list[ProjectClass]) -> ProjectClass | None:
    """The project class the model named first (the preselected right class), if it still exists."""
    return next((cls for cls in classes if cls.name == row.top_label), None)


def feedback_json(row: Classification, classes: list[ProjectClass], url: str) -> dict[str, Any]:
    """What a page's script needs to offer the right-class choice for a project's prediction."""
    predicted = predicted_class(row, classes)
    return {
        "url": url,
        "class_id": row.feedback_class_id,
        "predicted_class_id": predicted.id if predicted else None,
        "classes": [{"id": cls.id, "name": cls.name} for cls in classes],
    }
