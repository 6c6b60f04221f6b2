"""``mirada projects``: create, fill and train projects from a shell, no server needed.

Every command runs in the app context and goes through the services, as the web pages
do; each is one transaction (``@committed``). ``--user`` names the owner; it may be left
out while exactly one account exists. Training runs in this process (the command waits
for it): the embedded mode's job threads live in the web server, and this one-shot
process has no other worker to hand the job to. The training services (scikit-learn)
load only when ``train`` runs, so that the rest of the ``mirada`` command starts quickly.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from mirada import runtime
from mirada.cli.owners import command_session, resolve_project, resolve_user, user_option
from mirada.cli.project_import import Importer, Tally, import_sources, sources_of
from mirada.cli.project_import import summary as import_summary
from mirada.cli.transactions import committed
from mirada.config import Settings
from mirada.db import Job, ModelVersion, Project, db
from mirada.db.job import FINISHED, SUCCEEDED
from mirada.presenters.refusals import refusal_text
from mirada.services import jobs
from mirada.services import projects as project_service
from mirada.services.errors import ServiceError

__all__ = ["projects", "resolve_project", "resolve_user", "user_option"]

POLL_S = 0.25
PROGRESS_STEPS = 1000


def _refusal(exc: ServiceError) -> click.ClickException:
    return click.ClickException(refusal_text(exc))


@click.group()
def projects() -> None:
    """Projects: your own classes, trained on the frozen backbone."""


# create, list


@projects.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the project is for.")
@user_option
@with_appcontext
@committed
def create(name: str, description: str, email: str | None) -> None:
    """Create an empty project called NAME."""
    user = resolve_user(email)
    try:
        project = project_service.create_project(
            session=command_session(), user=user, name=name, description=description
        )
    except ServiceError as exc:
        raise _refusal(exc) from None
    click.echo(f"Created project {project.name} (id {project.id}) for {user.email}.")


def _project_row(summary: project_service.ProjectSummary) -> dict[str, Any]:
    project, version = summary.project, summary.project.serving_version
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "classes": summary.class_count,
        "examples": summary.example_count,
        "serving_version": version.number if version is not None else None,
        "accuracy": version.metrics.get("accuracy") if version is not None else None,
    }


@projects.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per project and line.")
@user_option
@with_appcontext
def list_projects(as_json: bool, email: str | None) -> None:
    """List the projects by name.

    Columns, tab separated: name, classes, examples, the serving version (v1, v2, ...; "-"
    when none is trained) and its accuracy on examples it did not train on.
    """
    user = resolve_user(email)
    for summary in project_service.project_summaries(session=command_session(), user=user):
        row = _project_row(summary)
        if as_json:
            click.echo(json.dumps(row))
            continue
        version, accuracy = row["serving_version"], row["accuracy"]
        cells = [
            row["name"],
            str(row["classes"]),
            str(row["examples"]),
            f"v{version}" if version is not None else "-",
            f"{accuracy:.3f}" if accuracy is not None else "-",
        ]
        click.echo("\t".join(cells))


# import


@projects.command("import")
@click.argument("name")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@user_option
@with_appcontext
@committed
def import_examples(name: str, source: Path, email: str | None) -> None:
    """Add the images under SOURCE to project NAME as labelled examples.

    SOURCE is a folder with one sub-folder per class (SOURCE/CLASS/IMAGE), or a .zip
    file laid out the same way (optionally inside one top folder). Missing classes are
    created; hidden files are skipped; a file the project already holds counts as a
    duplicate; a refused file is reported by name with the reason and does not stop
    the others. Embeddings are computed by `mirada projects train`.

    Exit status: 0 when at least one file was added, or when nothing was refused (all
    duplicates); 1 when files were refused and none added, or SOURCE holds no file.
    """
    user = resolve_user(email)
    project = resolve_project(user, name)
    settings = runtime.settings()
    session = command_session()
    importer = Importer(
        session=session,
        project=project,
        settings=settings,
        blobs=runtime.blobs(),
        budget=runtime.decode_budget(),
    )
    with sources_of(source, settings) as (sources, refused):
        if not sources and not refused:
            raise click.ClickException(f"{source} holds no files to import.")
        classes_before = len(project.classes)
        tally = Tally(refused=list(refused))
        import_sources(importer, sources, tally)
        session.refresh(project)
        new_classes = len(project.classes) - classes_before
        click.echo("\n".join(import_summary(project, tally, new_classes)))
        if tally.added == 0 and tally.refused:
            sys.exit(1)


# train


class _HeldJobs:
    """A job queue that only notes the job ids it is given: this process runs them itself."""

    in_process = True

    def __init__(self) -> None:
        self.job_ids: list[int] = []

    def start(self, app: object) -> None:
        """Nothing to bind to."""

    def enqueue(self, job_id: int) -> None:
        """Note the job; the command runs it."""
        self.job_ids.append(job_id)


@contextmanager
def _jobs_held_back() -> Iterator[_HeldJobs]:
    """Swap the app's job queue for one that runs nothing, so jobs run here, in the open."""
    extensions = current_app.extensions
    previous = extensions["mirada.jobs"]
    held = _HeldJobs()
    extensions["mirada.jobs"] = held
    try:
        yield held
    finally:
        extensions["mirada.jobs"] = previous


def _job_state(job_id: int) -> tuple[str, float, str]:
    row = db.session.execute(
        select(Job.state, Job.progress, Job.stage).where(Job.id == job_id)
    ).one()
    db.session.commit()  # end the read: the job's writer must not wait for this reader
    return row.state, row.progress, row.stage


def _run_here(job_id: int, *, show_progress: bool) -> None:
    """Run the job in this process; with ``show_progress`` a bar on stderr follows it."""
    if not show_progress:
        jobs.run_job(job_id)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    done = threading.Event()
    with click.progressbar(length=PROGRESS_STEPS, label="Training", file=sys.stderr) as bar:

        def follow() -> None:
            with app.app_context():
                while not done.wait(POLL_S):
                    _state, progress, stage = _job_state(job_id)
                    bar.label = f"Training ({stage})" if stage else "Training"
                    bar.update(max(0, int(progress * PROGRESS_STEPS) - bar.pos))
                db.session.remove()

        follower = threading.Thread(target=follow, name="mirada-progress", daemon=True)
        follower.start()
        try:
            jobs.run_job(job_id)
        finally:
            done.set()
            follower.join()
        bar.update(PROGRESS_STEPS - bar.pos)


def _wait_for_other_worker(job_id: int, settings: Settings) -> None:
    """Wait for a job another process runs; a worker that stops beating fails it."""
    click.echo(f"Job {job_id} is already running elsewhere; waiting for it.", err=True)
    timeout = timedelta(seconds=settings.job_heartbeat_timeout_s)
    while True:
        jobs.reap_stalled_jobs(heartbeat_timeout=timeout)
        state, _progress, _stage = _job_state(job_id)
        if state in FINISHED:
            return
        time.sleep(POLL_S * 2)


def _version_json(project: Project, job: Job, version: ModelVersion) -> dict[str, Any]:
    from mirada.services import training

    return {
        "project": project.name,
        "job": job.id,
        "version": version.number,
        "serving": project.serving_version_id == version.id,
        "serving_version": (
            project.serving_version.number if project.serving_version is not None else None
        ),
        "pinned": project.serving_pinned_at is not None,
        "examples": version.example_count,
        "class_names": version.class_names,
        "class_counts": version.class_counts,
        "metrics": version.metrics,
        "warnings": [
            {**warning, "message": training.describe_issue(warning["code"], warning["params"])}
            for warning in version.warnings
        ],
    }


def _method(metrics: dict[str, Any]) -> str:
    evaluated = metrics.get("evaluated_count", 0)
    if metrics.get("method") == "holdout":
        return f"hold-out evaluation on {evaluated} examples"
    return f"{metrics.get('folds', 0)}-fold cross-validation on {evaluated} examples"


def _scores(metrics: dict[str, Any]) -> str:
    return f"accuracy {metrics['accuracy']:.3f}, macro F1 {metrics['macro_f1']:.3f}"


def _serving_lines(project: Project, version: ModelVersion) -> list[str]:
    """Which version answers now and why, and how the new one did against the old one."""
    from mirada.services.comparisons import SameExamples
    from mirada.services.training import SERVING_COMPARISON

    serving = project.serving_version
    lines: list[str] = []
    if serving is None:
        return lines
    if serving.id == version.id:
        lines.append(f"Version {version.number} now answers: it is the newest.")
    else:
        pinned = project.serving_pinned_at
        when = f" on {pinned:%Y-%m-%d %H:%M} UTC" if pinned is not None else ""
        lines.append(f"Version {serving.number} still answers: it was pinned{when}.")
    raw = (version.metrics or {}).get(SERVING_COMPARISON)
    if isinstance(raw, dict):
        same = SameExamples.from_dict(raw)
        if same.count:
            lines.append(
                f"On the same {same.count} examples, which neither trained on: version "
                f"{same.newer} {same.newer_accuracy:.3f}, version {same.older} "
                f"{same.older_accuracy:.3f}."
            )
        if same.newer_is_worse:
            keep = (
                f" It answers anyway, as the newest; pin version {same.older} on the project's "
                "page to keep it answering."
                if serving.id == version.id
                else ""
            )
            lines.append(
                f"Warning: version {same.newer} does worse than version {same.older}.{keep}"
            )
    return lines


def _report(project: Project, job: Job, version: ModelVersion) -> list[str]:
    from mirada.services import training

    metrics = version.metrics
    lines = [
        f"Trained version {version.number} of {project.name} on {version.example_count} "
        f"examples (job {job.id}).",
        f"{_method(metrics).capitalize()}: {_scores(metrics)}",
    ]
    width = max([len("class"), *(len(c["name"]) for c in metrics.get("classes", []))])
    lines.append(f"{'class':<{width}}  precision  recall  f1     support")
    for row in metrics.get("classes", []):
        lines.append(
            f"{row['name']:<{width}}  {row['precision']:<9.3f}  {row['recall']:<6.3f}  "
            f"{row['f1']:<5.3f}  {row['support']}"
        )
    lines += _serving_lines(project, version)
    if version.warnings:
        lines.append("Warnings:")
        lines += ["  " + training.describe_issue(w["code"], w["params"]) for w in version.warnings]
    return lines


@projects.command("train")
@click.argument("name")
@click.option("--wait", is_flag=True, help="Show the progress on stderr, then the full evaluation.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version as one JSON object.")
@user_option
@with_appcontext
def train(name: str, wait: bool, as_json: bool, email: str | None) -> None:
    """Train a new version of project NAME, here and now.

    The job embeds the examples that lack an embedding, evaluates, and fits the head.
    It runs in this process whether or not --wait is given, so no `mirada serve`
    is needed (the command returns when the version is saved). Without --wait it prints
    one line: the version number and its accuracy; with --wait it shows the progress and
    then the evaluation (method, accuracy, macro F1, per-class precision, recall and F1).
    --json prints the version and its metrics as JSON instead. Exits with status 1 when
    the rules block training or the job fails, saying why.
    """
    from mirada.services import training  # scikit-learn: loaded only for this command

    user = resolve_user(email)
    project = resolve_project(user, name)
    settings = runtime.settings()
    jobs.reap_stalled_jobs(heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_timeout_s))
    with _jobs_held_back():
        try:
            job = training.start_training(project=project)
        except ServiceError as exc:
            raise _refusal(exc) from None
    job_id = job.id
    _run_here(job_id, show_progress=wait)
    state, _progress, _stage = _job_state(job_id)
    if state not in FINISHED:  # the job was already claimed by another worker
        _wait_for_other_worker(job_id, settings)
    db.session.expire_all()
    job = db.session.get(Job, job_id)  # type: ignore[assignment]
    assert job is not None
    if job.state != SUCCEEDED:
        raise click.ClickException(f"Training failed: {training.describe_job_error(job)}")
    version = db.session.get(ModelVersion, job.result["version_id"])
    assert version is not None
    if as_json:
        click.echo(json.dumps(_version_json(project, job, version)))
    elif wait:
        click.echo("\n".join(_report(project, job, version)))
    else:
        click.echo(
            f"Trained version {version.number} of {project.name} (job {job.id}): "
            f"{_scores(version.metrics)} ({_method(version.metrics)})."
        )
        for line in _serving_lines(project, version):
            click.echo(line)
