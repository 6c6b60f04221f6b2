"""The words about jobs, training rules and versions (mirada.presenters), in two languages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from mirada.presenters.jobs import describe_issue, describe_job_error, job_status
from mirada.presenters.refusals import refusal_text
from mirada.presenters.uploads import skip_text
from mirada.presenters.versions import method_text, training_done_text
from mirada.services.errors import ServiceError

TRANSLATIONS = Path(__file__).parents[2] / "src" / "mirada" / "web" / "translations"


@dataclass
class FakeJob:
    kind: str = "train"
    state: str = "queued"
    stage: str = ""
    progress: float = 0.0
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app)
    with app.test_request_context():
        yield app


def test_where_a_job_is(app: Flask) -> None:
    assert job_status(FakeJob(), serving_now=None) == "Waiting to start…"
    assert job_status(FakeJob(state="running"), serving_now=None) == "Starting…"
    running = FakeJob(state="running", stage="evaluating", progress=0.42)
    assert job_status(running, serving_now=None) == (
        "Evaluating on examples the model did not train on… 42%"
    )
    lost = FakeJob(state="failed", error="worker_lost")
    assert "stopped before it finished" in job_status(lost, serving_now=None)
    done = FakeJob(state="succeeded", result={"number": 3, "serving_number": 3})
    assert job_status(done, serving_now=3) == (
        "Done: version 3 is ready and now answers new photos."
    )
    assert job_status(done, serving_now=2) == "Done: version 3 is ready."  # chosen since
    assert job_status(FakeJob(kind="embed", state="succeeded"), serving_now=None) == "Done."


def test_a_training_blocked_by_the_rules_reads_the_same_as_a_refusal_and_a_job(app: Flask) -> None:
    issues = [
        {"code": "too_few_classes", "params": {}},
        {"code": "too_few_examples", "params": {"minimum": 5, "classes": ["a", "b"]}},
    ]
    expected = (
        "Add at least two classes to train. Each class needs at least 5 examples to train. "
        "Add more to: a, b."
    )
    assert refusal_text(ServiceError("training_blocked", issues=issues)) == expected
    failed = FakeJob(
        state="failed", error="training_blocked", result={"params": {"issues": issues}}
    )
    assert describe_job_error(failed) == expected
    assert describe_issue("unknown_rule", {}) == "unknown_rule"


def test_unbalanced_classes_and_skips_and_methods(app: Flask) -> None:
    ratio = describe_issue("imbalanced", {"largest": "a", "smallest": "b", "ratio": 12.345})
    assert "a has 12.3 times as many examples as b" in ratio
    assert skip_text("encrypted") == "This entry of the archive is encrypted and cannot be read."
    assert skip_text("whatever") == "This entry of the archive is damaged and cannot be read."
    assert method_text({"method": "holdout", "evaluated_count": 1}).startswith("Hold-out: 1 ")
    assert method_text({"folds": 5, "evaluated_count": 40}).startswith("5-fold cross-validation")


def test_the_same_words_in_spanish(app: Flask) -> None:
    with force_locale("es"):
        ratio = describe_issue("imbalanced", {"largest": "a", "smallest": "b", "ratio": 12.345})
        assert "12,3" in ratio and "times" not in ratio
        running = FakeJob(state="running", stage="embedding", progress=0.5)
        assert "50" in job_status(running, serving_now=None)
        assert job_status(running, serving_now=None) != "Reading the photos… 50%"
        result = {"number": 2, "serving_number": 2}
        assert "versión 2" in training_done_text(result, serving_now=2)
