"""``mirada classify``: classify image files from the command line, no server, no database.

With ``--project`` the classes are those of one of a user's projects: its serving
version's head over the backbone's embeddings, read through the app (database and blob
store); without it nothing but the ONNX model is needed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path

import click
import numpy as np

from mirada.config import Settings
from mirada.presenters.refusals import refusal_text
from mirada.services.images import refused
from mirada.vision.backbone import Backbone, ModelNotFound
from mirada.vision.fingerprint import model_fingerprint
from mirada.vision.intake import ImageRejected, open_image
from mirada.vision.labels import DEFAULT_LANGUAGE, LANGUAGES, base_language, imagenet_label
from mirada.vision.pipeline import Outcome, classify_stream, default_workers
from mirada.vision.predictions import Classifier, ImageNetClassifier, Prediction
from mirada.vision.preprocess import preprocess

BATCH_SIZE = 16
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

Describe = Callable[[Prediction], dict[str, str]]


def environment_language(environ: Mapping[str, str] = os.environ) -> str:
    """The language of the first of LC_ALL, LC_MESSAGES and LANG that is set (as gettext).

    English when none is set, or when it names a language without class names.
    """
    for name in LOCALE_VARIABLES:
        if environ.get(name):
            return base_language(environ[name])
    return DEFAULT_LANGUAGE


def load_classifier(settings: Settings) -> Classifier:
    """The classifier the command uses without ``--project``: ImageNet's 1000 classes."""
    return ImageNetClassifier(
        Backbone(settings.resolved_model_path, threads=settings.inference_threads, spinning=False),
        batch_size=BATCH_SIZE,
    )


def load_project_classifier(name: str, *, email: str | None) -> tuple[Settings, Classifier]:
    """The app's settings and the serving version of the user's project ``name``.

    Loads the app (the ``mirada`` command's, or one from the environment), finds the
    project as ``mirada projects`` does, and reads the head from the blob store. A
    missing user, project or trained version is a ClickException.
    """
    from flask.cli import ScriptInfo

    from mirada import runtime
    from mirada.cli.owners import resolve_project, resolve_user
    from mirada.services.classifiers import serving_head
    from mirada.services.errors import ServiceError
    from mirada.vision.custom import HeadClassifier

    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None:
        app = info.load_app()
    else:
        from mirada.web import create_app

        app = create_app()
    with app.app_context():
        settings = runtime.settings()
        project = resolve_project(resolve_user(email), name)
        path = settings.resolved_model_path
        backbone = Backbone(path, threads=settings.inference_threads, spinning=False)
        try:
            _version, head = serving_head(
                project=project, blobs=runtime.blobs(), backbone=model_fingerprint(path)
            )
        except ServiceError as error:
            raise click.ClickException(refusal_text(error)) from None
    return settings, HeadClassifier(backbone, head)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--top-k",
    "k",
    type=click.IntRange(1, 1000),
    default=5,
    show_default=True,
    help="How many classes to show per image.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image and line.")
@click.option(
    "--project",
    metavar="NAME",
    help="Use the classes of this project (its serving version) instead of ImageNet's.",
)
@click.option(
    "--user",
    "email",
    metavar="EMAIL",
    help="The project's owner (with --project; may be left out while there is one user).",
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES, case_sensitive=False),
    default=environment_language,
    show_default="from LC_ALL, LC_MESSAGES or LANG",
    help="The language of ImageNet class names.",
)
def classify(
    paths: tuple[Path, ...],
    k: int,
    as_json: bool,
    project: str | None,
    email: str | None,
    language: str,
) -> None:
    """Classify IMAGE_OR_FOLDER... (folders are walked recursively, hidden files skipped).

    ImageNet classes are named in --lang; with --json each prediction also carries the
    English name (label_en) and the WordNet id (wnid). With --project, a prediction's index
    is the class's position in the version's class list, its label the class's name, and
    --top-k is capped at the number of classes. Exits with status 1 when any file was
    refused.
    """
    if email is not None and project is None:
        raise click.UsageError("--user goes with --project.")
    files = list(image_files(paths))
    try:
        if project is None:
            settings = Settings()
            classifier = load_classifier(settings)
        else:
            settings, classifier = load_project_classifier(project, email=email)
    except ModelNotFound as error:
        raise click.ClickException(str(error)) from None
    prepare = partial(
        _prepare,
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        max_jpeg_pixels=settings.max_jpeg_pixels,
    )
    outcomes = classify_stream(
        files,
        prepare=prepare,
        classifier=classifier,
        k=k,
        batch_size=BATCH_SIZE,
        workers=default_workers(),
    )
    describe = _imagenet_names(language) if project is None else _class_name
    show = partial(_as_json if as_json else _as_text, describe=describe, settings=settings)
    failed = False
    show_bar = len(files) > 1
    redrawn = show_bar and sys.stderr.isatty()
    with click.progressbar(
        length=len(files), label="Classifying", file=sys.stderr, hidden=not show_bar
    ) as bar:
        for outcome in outcomes:
            failed |= outcome.error is not None
            if redrawn:
                click.echo("\r\033[K", nl=False, err=True)  # clear the bar before printing
            click.echo(show(outcome))
            bar.update(1)
    if failed:
        sys.exit(1)


def image_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The given files, and the files under the given folders (sorted, hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                child
                for child in path.rglob("*")
                if child.is_file()
                and not any(part.startswith(".") for part in child.relative_to(path).parts)
            )
        else:
            yield path


def _prepare(path: Path, *, max_bytes: int, max_pixels: int, max_jpeg_pixels: int) -> np.ndarray:
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)  # enough to tell that it is too large
    image = open_image(
        data, max_bytes=max_bytes, max_pixels=max_pixels, max_jpeg_pixels=max_jpeg_pixels
    )
    return preprocess(image)


def _error(outcome: Outcome[Path], settings: Settings) -> dict[str, str]:
    """Why the file was refused, in the words the pages use for an upload refused so."""
    error = outcome.error
    if isinstance(error, ImageRejected):
        refusal = refused(error, settings=settings)
        return {"code": refusal.code, "message": refusal_text(refusal)}
    return {"code": "unreadable", "message": f"The file cannot be read: {error}."}


def _imagenet_names(language: str) -> Describe:
    """An ImageNet class's name in ``language``, its English name and its WordNet id."""
    return lambda prediction: imagenet_label(prediction.index).fields(language)


def _class_name(prediction: Prediction) -> dict[str, str]:
    """A project class's name, as its owner wrote it."""
    return {"label": prediction.label}


def _as_json(outcome: Outcome[Path], *, describe: Describe, settings: Settings) -> str:
    if outcome.predictions is None:
        return json.dumps({"file": str(outcome.source), "error": _error(outcome, settings)})
    predictions = [{"index": p.index, **describe(p), "score": p.score} for p in outcome.predictions]
    return json.dumps({"file": str(outcome.source), "predictions": predictions})


def _as_text(outcome: Outcome[Path], *, describe: Describe, settings: Settings) -> str:
    if outcome.predictions is None:
        error = _error(outcome, settings)
        return f"{outcome.source}\n  refused ({error['code']}): {error['message']}"
    rows = (f"  {p.score:7.2%}  {describe(p)['label']}" for p in outcome.predictions)
    return "\n".join([str(outcome.source), *rows])
