"""``mirada projects train``: train a new version of a project here and now.

The job runs in this process through the same worker and registry of job kinds as the
app's job threads (``runtime.inline_job_queue``): the embedded mode's job threads live
in the web server, and this one-shot process has no other worker to hand the job to.
The training services (scikit-learn) load only when ``train`` runs, so that the rest of
the ``mirada`` command starts quickly.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from flask.cli import with_appcontext

from mirada import runtime
from mirada.cli.owners import resolve_project, resolve_user, user_option
from mirada.cli.transactions import command_session
from mirada.db import Job, ModelVersion, Project, User
from mirada.db.job import FINISHED, SUCCEEDED
from mirada.jobs.inline import InlineJobQueue
from mirada.presenters.jobs import describe_issue, describe_job_error
from mirada.presenters.refusals import refusal_text
from mirada.presenters.versions import method_text, serving_comparison, training_done_text
from mirada.services import jobs, versions
from mirada.services.errors import ServiceError

POLL_S = 0.5
PROGRESS_STEPS = 1000


def _run_here(queue: InlineJobQueue, job_id: int, *, show_progress: bool) -> None:
    """Run the job in this process; with ``show_progress`` a bar on stderr follows it."""
    if not show_progress:
        queue.run(job_id)
        return
    with click.progressbar(length=PROGRESS_STEPS, label="Training", file=sys.stderr) as bar:

        def follow(fraction: float, stage: str) -> None:
            bar.label = f"Training ({stage})" if stage else "Training"
            bar.update(max(0, int(fraction * PROGRESS_STEPS) - bar.pos))

        queue.run(job_id, observe=follow)
        bar.update(PROGRESS_STEPS - bar.pos)


def _finished_job(user: User, job_id: int) -> Job:
    """The job once it has ended; one another process runs is waited for (the worker here
    reaps it when that process dies or stops beating)."""
    session = command_session()
    session.commit()  # end the read: see what the job's writer committed
    job = jobs.get_job(session=session, user=user, job_id=job_id)
    if job.state not in FINISHED:
        click.echo(f"Job {job_id} is already running elsewhere; waiting for it.", err=True)
    while job.state not in FINISHED:
        time.sleep(POLL_S)
        runtime.job_worker().reap()
        session.commit()
        job = jobs.get_job(session=session, user=user, job_id=job_id)
    return job


def _version_json(project: Project, job: Job, version: ModelVersion) -> dict[str, Any]:

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
            {**warning, "message": describe_issue(warning["code"], warning["params"])}
            for warning in version.warnings
        ],
    }


def _scores(metrics: dict[str, Any]) -> str:
    return f"accuracy {metrics['accuracy']:.3f}, macro F1 {metrics['macro_f1']:.3f}"


def _serving_lines(project: Project, job: Job, version: ModelVersion) -> list[str]:
    """Which version answers now and why, and how the new one did against the old one:
    the words of the project's page."""
    serving = project.serving_version
    lines = [training_done_text(job.result, serving_now=serving.number if serving else None)]
    comparison = serving_comparison(version.metrics or {})
    if comparison is not None and not comparison["worse"]:  # a worse one is told above
        lines.append(comparison["text"])
    return lines


def _report(project: Project, job: Job, version: ModelVersion) -> list[str]:

    metrics = version.metrics
    lines = [
        f"Trained version {version.number} of {project.name} on {version.example_count} "
        f"examples (job {job.id}).",
        f"{method_text(metrics)} Scores: {_scores(metrics)}.",
    ]
    width = max([len("class"), *(len(c["name"]) for c in metrics.get("classes", []))])
    lines.append(f"{'class':<{width}}  precision  recall  f1     support")
    for row in metrics.get("classes", []):
        lines.append(
            f"{row['name']:<{width}}  {row['precision']:<9.3f}  {row['recall']:<6.3f}  "
            f"{row['f1']:<5.3f}  {row['support']}"
        )
    lines += _serving_lines(project, job, version)
    if version.warnings:
        lines.append("Warnings:")
        lines += ["  " + describe_issue(w["code"], w["params"]) for w in version.warnings]
    return lines


@click.command("train")
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
    runtime.job_worker().reap()  # a train killed before leaves its job to be reaped here
    queue = runtime.inline_job_queue()
    session = command_session()
    try:
        job = training.start_training(session=session, queue=queue, project=project)
    except ServiceError as exc:
        raise click.ClickException(refusal_text(exc)) from None
    job_id = job.id
    session.commit()  # the job is there for the worker (and for everyone) to see
    _run_here(queue, job_id, show_progress=wait)  # unless another worker claimed it first
    job = _finished_job(user, job_id)
    if job.state != SUCCEEDED:
        raise click.ClickException(f"Training failed: {describe_job_error(job)}")
    version = versions.get_version(
        session=command_session(), project=project, number=job.result["number"]
    )
    if as_json:
        click.echo(json.dumps(_version_json(project, job, version)))
    elif wait:
        click.echo("\n".join(_report(project, job, version)))
    else:
        click.echo(
            f"Trained version {version.number} of {project.name} (job {job.id}): "
            f"{_scores(version.metrics)}. {method_text(version.metrics)}"
        )
        for line in _serving_lines(project, job, version):
            click.echo(line)
