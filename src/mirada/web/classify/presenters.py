"""How a stored classification reads to a person: ImageNet classes named in their language.

An ImageNet classification stores its predictions with the model's English labels and
class indices; what is shown is looked up by index in the labels catalog, so a page in
Spanish says "gato egipcio" and the JSON keeps the English name and the WordNet id beside
it. A project's classes are the owner's own names and are shown as they were stored.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale

from mirada.db import Classification
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
