"""The words for a service's refusal, looked up by its code.

Each concept's presenter module keeps a ``REFUSALS`` table (code -> wording); this module
joins them, and a code worded twice stops the import.
"""

from __future__ import annotations

from collections.abc import Mapping

from mirada.presenters import accounts, classify, images, jobs, projects, uploads, versions
from mirada.presenters.wording import Wording, say
from mirada.services.errors import ServiceError

CONCEPTS: tuple[Mapping[str, Wording], ...] = (
    accounts.REFUSALS,
    classify.REFUSALS,
    images.REFUSALS,
    jobs.REFUSALS,
    projects.REFUSALS,
    uploads.REFUSALS,
    versions.REFUSALS,
)


def _joined(tables: tuple[Mapping[str, Wording], ...]) -> dict[str, Wording]:
    joined: dict[str, Wording] = {}
    for table in tables:
        clash = joined.keys() & table.keys()
        if clash:
            raise ValueError(f"refusal codes worded twice: {sorted(clash)}")
        joined.update(table)
    return joined


REFUSALS = _joined(CONCEPTS)


def refusal_text(error: ServiceError) -> str:
    """``error`` in the reader's language."""
    return say(REFUSALS[error.code], error.params)
