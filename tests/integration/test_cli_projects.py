"""``mirada projects`` and ``mirada classify --project``: a project taught from a shell.

The main test teaches scikit-learn's scanned digits through the command line and checks
the accuracy the training reports against an independent one: ``mirada classify`` on
digits that were never imported.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sklearn.datasets import load_digits
from sqlalchemy import func, select

from mirada.cli import main
from mirada.db import Example, Job, Project, User
from mirada.db.app_session import db
from mirada.presenters.jobs import describe_job_error
from mirada.services import classes, jobs, versions
from tests.integration.helpers import add_user, count
from tests.support.digits import Digits, digit_png, write_digits

PER_CLASS = 80  # examples of each digit imported (see tests/support/digits.py)
HELD_OUT = 100  # other digits, classified after training
FLOOR = 0.85
AGREEMENT = 0.1


@pytest.fixture(autouse=True)
def restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask's CLI sets FLASK_RUN_FROM_CLI; let monkeypatch put it back afterwards."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")


def mirada(app: Flask, *args: str) -> Result:
    """Run ``mirada ARGS...`` against ``app``; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Digits:
    """PER_CLASS digits of each class to import, HELD_OUT others to classify."""
    return write_digits(tmp_path_factory.mktemp("digits"), per_class=PER_CLASS, held_out=HELD_OUT)


def test_digits_taught_from_the_shell_score_what_they_report(app: Flask, digits: Digits) -> None:
    add_user(app, "ann@example.org")

    created = mirada(app, "projects", "create", "Digits", "--description", "Scanned digits")
    assert created.exit_code == 0, created.output
    assert created.stdout.startswith("Created project Digits (id ")

    imported = mirada(app, "projects", "import", "digits", str(digits.train))
    assert imported.exit_code == 0, imported.output
    total = 10 * PER_CLASS
    assert imported.stdout.strip() == (
        f"Added {total} examples to Digits (10 new classes); 0 duplicates skipped; 0 refused."
    )
    assert "Importing" in imported.stderr

    trained = mirada(app, "projects", "train", "digits", "--wait", "--json")
    assert trained.exit_code == 0, trained.output
    assert "Training" in trained.stderr
    report = json.loads(trained.stdout)
    assert (report["version"], report["examples"], report["serving"]) == (1, total, True)
    assert report["class_names"] == [str(d) for d in range(10)]
    metrics = report["metrics"]
    assert metrics["method"] == "holdout"
    assert metrics["evaluated_count"] == total // 5
    reported = metrics["accuracy"]

    classified = mirada(
        app, "classify", "--project", "digits", "--json", "--top-k", "20", str(digits.test)
    )
    assert classified.exit_code == 0, classified.output
    lines = [json.loads(line) for line in classified.stdout.splitlines()]
    assert len(lines) == HELD_OUT
    for line in lines:
        predictions = line["predictions"]
        assert len(predictions) == 10  # --top-k capped at the number of classes
        assert all(report["class_names"][p["index"]] == p["label"] for p in predictions)
        assert sum(p["score"] for p in predictions) == pytest.approx(1.0, abs=1e-4)
    right = [
        line["predictions"][0]["label"] == digits.truth[Path(line["file"]).name] for line in lines
    ]
    independent = sum(right) / len(right)

    print(f"reported hold-out accuracy {reported:.3f}, independent accuracy {independent:.3f}")
    assert reported >= FLOOR
    assert independent >= FLOOR
    assert abs(reported - independent) <= AGREEMENT

    listed = mirada(app, "projects", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [f"Digits\t10\t{total}\tv1\t{reported:.3f}"]
    as_json = json.loads(mirada(app, "projects", "list", "--json").stdout)
    assert (as_json["name"], as_json["classes"], as_json["examples"]) == ("Digits", 10, total)
    assert (as_json["serving_version"], as_json["accuracy"]) == (1, reported)

    # A retrain reuses the stored embeddings; the newest version answers at once.
    again = mirada(app, "projects", "train", "digits", "--wait")
    assert again.exit_code == 0, again.output
    text = again.stdout.splitlines()
    assert text[0].startswith(f"Trained version 2 of Digits on {total} examples (job ")
    assert text[1].startswith(
        f"Hold-out: {total // 5} examples were set aside and never trained on, then scored. "
        "Scores: accuracy "
    )
    assert text[2].split() == ["class", "precision", "recall", "f1", "support"]
    assert [row.split()[0] for row in text[3:13]] == [str(d) for d in range(10)]
    assert "Done: version 2 is ready and now answers new photos." in again.stdout
    with app.app_context():
        project = db.session.scalar(select(Project))
        assert project is not None
        versions.pin_version(project=project, version=project.serving_version, backbone=None)
        db.session.commit()
    quiet = mirada(app, "projects", "train", "digits")
    assert quiet.exit_code == 0, quiet.output
    lines = quiet.stdout.splitlines()
    assert lines[0].startswith("Trained version 3 of Digits (job ")
    assert "accuracy" in lines[0]
    assert lines[1].startswith(
        "Done: version 3 is ready. Version 2 still answers new photos because you pinned it."
    )
    assert quiet.stderr == ""
    as_json = json.loads(mirada(app, "projects", "train", "digits", "--json").stdout)
    assert (as_json["version"], as_json["serving"]) == (4, False)
    assert (as_json["serving_version"], as_json["pinned"]) == (2, True)


def test_user_must_be_named_when_there_are_several(app: Flask) -> None:
    nobody = mirada(app, "projects", "list")
    assert nobody.exit_code == 1
    assert "There are no users yet" in nobody.stderr

    add_user(app, "ann@example.org")
    add_user(app, "bob@example.org")
    for args in (["list"], ["create", "Birds"], ["train", "Birds"]):
        result = mirada(app, "projects", *args)
        assert result.exit_code == 1
        assert "--user EMAIL" in result.stderr
        assert "ann@example.org, bob@example.org" in result.stderr
        assert "Traceback" not in result.output

    assert mirada(app, "projects", "create", "Birds", "--user", "BOB@example.org").exit_code == 0
    assert mirada(app, "projects", "list", "--user", "ann@example.org").stdout == ""
    assert (
        mirada(app, "projects", "list", "--user", "bob@example.org").stdout == "Birds\t0\t0\t-\t-\n"
    )
    stranger = mirada(app, "projects", "list", "--user", "eve@example.org")
    assert stranger.exit_code == 1
    assert "eve@example.org: No such user." in stranger.stderr  # as `mirada users` says


def test_unknown_project_is_a_clean_error(app: Flask, tmp_path: Path) -> None:
    add_user(app, "ann@example.org")
    (tmp_path / "a").mkdir()
    photo = tmp_path / "a" / "1.png"
    photo.write_bytes(digit_png(load_digits().images[0]))
    for args in (
        ["projects", "import", "Nope", str(tmp_path)],
        ["projects", "train", "Nope", "--wait"],
        ["classify", "--project", "Nope", str(photo)],
    ):
        result = mirada(app, *args)
        assert result.exit_code == 1, args
        assert '"Nope": No such project. ann@example.org has no project of that' in result.stderr
        assert "Traceback" not in result.output
    assert count(app, Job) == 0


def test_import_reports_refused_files_by_name_and_adds_the_others(
    app: Flask, tmp_path: Path
) -> None:
    add_user(app, "ann@example.org")
    assert mirada(app, "projects", "create", "Digits").exit_code == 0
    images = load_digits().images
    source = tmp_path / "source"
    for digit, names in {"1": ["1.png", "2.png", "3.png"], "2": ["4.png", "5.png"]}.items():
        (source / digit).mkdir(parents=True)
        for name in names:
            (source / digit / name).write_bytes(digit_png(images[int(name.removesuffix(".png"))]))
    (source / "1" / "3.png").write_text("not a picture, whatever its name says")
    (source / "2" / ".hidden.png").write_bytes(digit_png(images[6]))
    (source / "loose.png").write_bytes(digit_png(images[7]))

    result = mirada(app, "projects", "import", "Digits", str(source))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Added 4 examples to Digits (2 new classes); 0 duplicates skipped; 2 refused:",
        "  1/3.png: This file type is not supported. Use a JPEG, PNG, WebP, GIF or BMP image.",
        "  loose.png: Not inside a class folder: put each photo in a folder named after its class.",
    ]
    assert count(app, Example) == 4

    # The same files zipped: all already there, the bad one refused again -> status 1.
    archive = tmp_path / "digits.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(source.glob("*/*.png")):
            zipped.write(path, f"digits/{path.relative_to(source).as_posix()}")
    result = mirada(app, "projects", "import", "Digits", str(archive))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Added 0 examples to Digits (0 new classes); 4 duplicates skipped; 1 refused:",
        "  1/3.png: This file type is not supported. Use a JPEG, PNG, WebP, GIF or BMP image.",
    ]

    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK but not really")
    result = mirada(app, "projects", "import", "Digits", str(junk))
    assert result.exit_code == 1
    assert "This file is not a valid zip archive." in result.stderr
    assert "Traceback" not in result.output


def test_links_in_a_folder_are_not_followed(app: Flask, tmp_path: Path) -> None:
    add_user(app, "ann@example.org")
    assert mirada(app, "projects", "create", "Digits").exit_code == 0
    images = load_digits().images
    (tmp_path / "source" / "ones").mkdir(parents=True)
    (tmp_path / "source" / "ones" / "a.png").write_bytes(digit_png(images[1]))
    secret = tmp_path / "secret.png"
    secret.write_bytes(digit_png(images[11]))
    (tmp_path / "source" / "ones" / "b.png").symlink_to(secret)

    result = mirada(app, "projects", "import", "Digits", str(tmp_path / "source"))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "  ones/b.png: This is a link; links are not followed."
    ]
    assert count(app, Example) == 1


def test_a_folder_over_the_owners_limit_is_refused_in_the_pages_words(
    app: Flask, tmp_path: Path
) -> None:
    user_id = add_user(app, "ann@example.org")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        user.photo_limit = 2
        db.session.commit()
    assert mirada(app, "projects", "create", "Digits").exit_code == 0
    images = load_digits().images
    (tmp_path / "ones").mkdir()
    for i in range(3):
        (tmp_path / "ones" / f"{i}.png").write_bytes(digit_png(images[i]))

    result = mirada(app, "projects", "import", "Digits", str(tmp_path))

    assert result.exit_code == 1
    assert "This would take you over your limit of 2 photos (you keep 0)." in result.stderr
    assert "Traceback" not in result.output
    assert count(app, Example) == 0


def test_training_blocked_by_the_rules_says_why(app: Flask, tmp_path: Path) -> None:
    add_user(app, "ann@example.org")
    assert mirada(app, "projects", "create", "Digits").exit_code == 0
    images = load_digits().images
    (tmp_path / "ones").mkdir()
    for i in range(5):
        (tmp_path / "ones" / f"{i}.png").write_bytes(digit_png(images[i]))
    assert mirada(app, "projects", "import", "Digits", str(tmp_path)).exit_code == 0

    one_class = mirada(app, "projects", "train", "Digits", "--wait")
    assert one_class.exit_code == 1
    assert "Add at least two classes to train." in one_class.stderr
    assert "Traceback" not in one_class.output

    with app.app_context():
        ann_project = db.session.scalar(select(Project))
        assert ann_project is not None
        classes.add_class(session=db.session(), project=ann_project, name="twos")
        db.session.commit()
    empty_class = mirada(app, "projects", "train", "Digits", "--wait", "--json")
    assert empty_class.exit_code == 1
    assert "Each class needs at least 5 examples to train. Add more to: twos." in (
        empty_class.stderr
    )
    assert empty_class.stdout == ""
    assert count(app, Job) == 0

    untrained = mirada(app, "classify", "--project", "Digits", str(tmp_path / "ones" / "0.png"))
    assert untrained.exit_code == 1
    assert "This project has no trained version yet. Train it first." in untrained.stderr


def test_a_job_whose_process_dies_is_lost_at_once(
    app: Flask, database_url: str, tmp_path: Path, model_path: Path, digits: Digits
) -> None:
    add_user(app, "ann@example.org")
    app.extensions["mirada.reaper"].stop()  # the test looks for the lost job itself, below
    assert mirada(app, "projects", "create", "Digits").exit_code == 0
    assert mirada(app, "projects", "import", "Digits", str(digits.train)).exit_code == 0
    env = {
        **os.environ,
        "MIRADA_ENV": "testing",
        "MIRADA_DATA_DIR": str(app.extensions["mirada.settings"].resolved_data_dir),
        "MIRADA_DATABASE_URL": database_url,
        "MIRADA_MODEL_PATH": str(model_path),
        "MIRADA_JOB_HEARTBEAT_TIMEOUT_S": "3600",  # found by its process, not by its silence
    }
    command = [str(Path(sys.executable).parent / "mirada"), "projects", "train", "Digits", "--wait"]
    log = (tmp_path / "train.log").open("wb")
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with app.app_context():
                job = db.session.scalar(select(Job))
                state = (job.state, job.progress) if job is not None else None
            if state is not None and state[0] == "running" and state[1] > 0:
                break
            output = (tmp_path / "train.log").read_text()
            assert worker.poll() is None, f"the worker ended first: {output}"
            assert time.monotonic() < deadline, f"no progress: {state} {output}"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
        log.close()
    assert worker.returncode == -signal.SIGKILL

    with app.app_context():
        job = db.session.scalar(select(Job))
        assert job is not None
        assert job.state == "running"  # until someone looks
        assert job.runner_pid == worker.pid
        db.session.rollback()
        assert (
            jobs.reap_stalled_jobs(session=db.session(), heartbeat_timeout=timedelta(hours=1)) == 1
        )
        db.session.commit()
        job = db.session.scalar(select(Job))
        assert job is not None
        assert (job.state, job.error) == ("failed", "worker_lost")
        assert "stopped before it finished" in describe_job_error(job)
        embedded = db.session.scalar(
            select(func.count(Example.id)).where(Example.embedding_backbone.is_not(None))
        )
        assert 0 < embedded < 10 * PER_CLASS

    again = mirada(app, "projects", "train", "Digits")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Trained version 1 of Digits (job ")
    with app.app_context():
        assert [j.state for j in db.session.scalars(select(Job).order_by(Job.id))] == [
            "failed",
            "succeeded",
        ]
