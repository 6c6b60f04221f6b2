"""The words about background jobs: where a job is, why it failed, and the training rules
(an error that blocks training, a warning that does not)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mirada.presenters.numbers import percent
from mirada.presenters.versions import training_done_text
from mirada.presenters.wording import Wording

# The job states (mirada.db.job), spelt here so that the words need no database import.
QUEUED, RUNNING, FAILED = "queued", "running", "failed"

STAGES = {
    "embedding": _l("Reading the photos"),
    "evaluating": _l("Evaluating on examples the model did not train on"),
    "training": _l("Training the final model"),
}


class JobState(Protocol):
    """What the words need of a job (a ``mirada.db.Job``)."""

    kind: str
    state: str
    stage: str
    progress: float
    error: str
    result: dict[str, Any]


def describe_issue(code: str, params: Mapping[str, Any]) -> str:
    """A training rule's error or warning as a sentence in the current language."""
    classes = ", ".join(params.get("classes", []))
    if code == "too_few_classes":
        return _("Add at least two classes to train.")
    if code == "too_few_examples":
        return _(
            "Each class needs at least %(n)d examples to train. Add more to: %(classes)s.",
            n=params.get("minimum", 5),
            classes=classes,
        )
    if code == "few_examples":
        return _(
            "Fewer than %(n)d examples in: %(classes)s. The results may be unreliable.",
            n=params.get("recommended", 20),
            classes=classes,
        )
    if code == "imbalanced":
        return _(
            "The classes are unbalanced: %(largest)s has %(ratio)s times as many examples as "
            "%(smallest)s. Training weighs them equally, but more examples of the small "
            "classes would help.",
            largest=params.get("largest", ""),
            smallest=params.get("smallest", ""),
            ratio=format_decimal(params.get("ratio", 0), "#,##0.0"),
        )
    return code


def describe_issues(params: Mapping[str, Any]) -> str:
    """The issues listed in ``params["issues"]`` (``{"code", "params"}`` each), in one line."""
    return " ".join(describe_issue(i["code"], i["params"]) for i in params.get("issues", []))


def describe_job_error(job: JobState) -> str:
    """Why a job failed, for a person."""
    params = job.result.get("params", {}) if isinstance(job.result, dict) else {}
    if job.error == "training_blocked":
        return describe_issues(params)
    if job.error == "worker_lost":
        return _("The worker running this job stopped before it finished. Start it again.")
    if job.error == "model_missing":
        return _(
            "The image model file is missing, so the photos cannot be read. Create it on the "
            "server with 'make install' (or 'mirada model export', then 'mirada model "
            "quantize'), then try again."
        )
    if job.error == "model_unavailable":
        return _("The image model is not available right now. Try again later.")
    if job.error == "example_unreadable":
        return _(
            "The example %(name)s could not be read. Delete it and try again.",
            name=params.get("filename", ""),
        )
    return _("Something went wrong while running this job. It has been logged.")


def job_status(job: JobState, *, serving_now: int | None) -> str:
    """One sentence on where the job is. ``serving_now``: the number of the version that
    answers for the job's project today (see ``training_done_text``)."""
    if job.state == QUEUED:
        return _("Waiting to start…")
    if job.state == RUNNING:
        stage = STAGES.get(job.stage)
        done = percent(job.progress, 0)
        if stage is None:
            return _("Starting…") if not job.progress else _("Running… %(percent)s", percent=done)
        return _("%(stage)s… %(percent)s", stage=stage, percent=done)
    if job.state == FAILED:
        return describe_job_error(job)
    if job.kind == "train" and "number" in (job.result or {}):
        return training_done_text(job.result, serving_now=serving_now)
    return _("Done.")


REFUSALS: dict[str, Wording] = {
    "job_not_found": _l("No such job."),
    "training_blocked": describe_issues,
}
