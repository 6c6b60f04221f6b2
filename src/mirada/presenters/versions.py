"""The words about trained versions: which one answers and why, how a training ended, how
two versions compare on the same examples, and how each was evaluated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from mirada.presenters.numbers import percent
from mirada.presenters.wording import Wording
from mirada.services.comparisons import SameExamples
from mirada.services.training import SERVING_COMPARISON

FEW_EXAMPLES = 20  # below this, a same-example comparison is said to be rough

REFUSALS: dict[str, Wording] = {
    "versions_required": _l("Choose two versions to compare."),
}


class Evaluated(Protocol):
    """What ``evaluations_differ`` needs of a version (a ``mirada.db.ModelVersion``)."""

    class_names: list[str]
    metrics: dict[str, Any]


def _percent(value: float | None) -> str:
    return percent(value or 0.0)


def comparison_text(comparison: SameExamples) -> str:
    """Both versions' accuracy on the same examples, or why there are none."""
    if not comparison.count:
        return _(
            "Version %(older)d trained on every example version %(newer)d was evaluated on, "
            "so they cannot be scored on the same unseen examples.",
            older=comparison.older,
            newer=comparison.newer,
        )
    text = ngettext(
        "On the %(num)d example neither version trained on, version %(newer)d scores "
        "%(newer_accuracy)s and version %(older)d %(older_accuracy)s.",
        "On the same %(num)d examples, which neither version trained on, version %(newer)d "
        "scores %(newer_accuracy)s and version %(older)d %(older_accuracy)s.",
        comparison.count,
        newer=comparison.newer,
        older=comparison.older,
        newer_accuracy=_percent(comparison.newer_accuracy),
        older_accuracy=_percent(comparison.older_accuracy),
    )
    if comparison.unknown_to_older:
        text += " " + ngettext(
            "%(num)d of them is of a class version %(older)d does not know.",
            "%(num)d of them are of classes version %(older)d does not know.",
            comparison.unknown_to_older,
            older=comparison.older,
        )
    if comparison.count < FEW_EXAMPLES:
        text += " " + _(
            "So few examples make this a rough comparison: a photo more or less right moves "
            "it a lot."
        )
    return text


def worse_text(comparison: SameExamples, *, switched: bool) -> str:
    """The warning when a new version does worse than the one that was answering."""
    if switched:
        return _(
            "Version %(newer)d does worse than version %(older)d on the same examples. It "
            "answers now, as the newest version; to keep version %(older)d answering instead, "
            "pin it in the versions table.",
            newer=comparison.newer,
            older=comparison.older,
        )
    return _(
        "Version %(newer)d does worse than version %(older)d on the same examples.",
        newer=comparison.newer,
        older=comparison.older,
    )


def serving_comparison(metrics: Mapping[str, Any]) -> dict[str, Any] | None:
    """A version against the one answering when it was trained, for the version's page."""
    raw = metrics.get(SERVING_COMPARISON)
    if not isinstance(raw, dict):
        return None
    comparison = SameExamples.from_dict(raw)
    return {"text": comparison_text(comparison), "worse": comparison.newer_is_worse}


def training_done_text(result: Mapping[str, Any], *, serving_now: int | None) -> str:
    """How a training ended: the new version, the one that answers and why.

    ``serving_now``: the version answering today; once the user chose another one since,
    the versions table says which answers, not this old message.
    """
    number = result["number"]
    serving = result.get("serving_number")
    if serving is None or serving != serving_now:  # older jobs, or a choice made since
        return _("Done: version %(number)d is ready.", number=number)
    if serving == number:
        text = _("Done: version %(number)d is ready and now answers new photos.", number=number)
    else:
        text = _(
            "Done: version %(number)d is ready. Version %(serving)d still answers new photos "
            "because you pinned it.",
            number=number,
            serving=serving,
        )
    raw = result.get("comparison")
    if isinstance(raw, dict):
        comparison = SameExamples.from_dict(raw)
        if comparison.newer_is_worse:
            text += " " + comparison_text(comparison)
            text += " " + worse_text(comparison, switched=serving == number)
    return text


def method_text(metrics: Mapping[str, Any]) -> str:
    """How a version was evaluated, and on how many examples."""
    evaluated = metrics.get("evaluated_count", 0)
    if metrics.get("method") == "holdout":
        return ngettext(
            "Hold-out: %(num)d example was set aside and never trained on, then scored.",
            "Hold-out: %(num)d examples were set aside and never trained on, then scored.",
            evaluated,
        )
    return ngettext(
        "%(folds)d-fold cross-validation: %(num)d example was scored by a model that did not "
        "train on it.",
        "%(folds)d-fold cross-validation: each of the %(num)d examples was scored by a model "
        "that did not train on it.",
        evaluated,
        folds=metrics.get("folds", 0),
    )


def evaluations_differ(left: Evaluated, right: Evaluated) -> bool:
    """Whether two versions' scores were measured differently: another method, other
    examples or other classes."""
    a, b = left.metrics or {}, right.metrics or {}
    keys = ("method", "folds", "evaluated_count", "evaluated_example_ids")
    return left.class_names != right.class_names or any(a.get(k) != b.get(k) for k in keys)
