"""The words for the refusals of training and its jobs.

Transitional: ``describe_issue`` still lives in ``services/training.py``; it moves to
``presenters/jobs.py`` (issue 9), where these two codes belong too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from mirada.presenters.wording import Wording


def _training_blocked(params: Mapping[str, Any]) -> str:
    """Each rule that blocks training, as a sentence."""
    from mirada.services.training import describe_issue  # scikit-learn: only when needed

    return " ".join(describe_issue(i["code"], i["params"]) for i in params.get("issues", []))


REFUSALS: dict[str, Wording] = {
    "job_not_found": _l("No such job."),
    "training_blocked": _training_blocked,
}
