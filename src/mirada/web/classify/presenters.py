"""How a classification reads to a person: the model's human name, the right-class choices."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from mirada.db import Classification, ProjectClass


def model_label(row: Classification) -> str:
    """ "ImageNet (1000 classes)", or the project's name and its version number."""
    if row.project_id is None:
        return _("ImageNet (1000 classes)")
    return _("%(name)s, version %(version)s", name=row.model_name, version=row.model_version)


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
