"""``mirada classify``: classify image files from the command line, no server, no database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path

import click
import numpy as np

from mirada.config import Settings
from mirada.vision.backbone import Backbone, ModelNotFound
from mirada.vision.intake import ImageRejected, open_image
from mirada.vision.pipeline import Outcome, classify_stream, default_workers
from mirada.vision.predictions import Classifier, ImageNetClassifier
from mirada.vision.preprocess import preprocess

BATCH_SIZE = 16


def load_classifier(settings: Settings) -> Classifier:
    """The classifier the command uses: ImageNet's 1000 classes.

    This is the one place a ``--project`` option would swap in a project's classifier.
    """
    return ImageNetClassifier(
        Backbone(settings.resolved_model_path, threads=settings.inference_threads),
        batch_size=BATCH_SIZE,
    )


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
def classify(paths: tuple[Path, ...], k: int, as_json: bool) -> None:
    """Classify IMAGE_OR_FOLDER... (folders are walked recursively, hidden files skipped).

    Exits with status 1 when any file was refused.
    """
    settings = Settings()
    files = list(image_files(paths))
    try:
        classifier = load_classifier(settings)
    except ModelNotFound as error:
        raise click.ClickException(str(error)) from None
    prepare = partial(
        _prepare, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_image_pixels
    )
    outcomes = classify_stream(
        files,
        prepare=prepare,
        classifier=classifier,
        k=k,
        batch_size=BATCH_SIZE,
        workers=default_workers(),
    )
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
            click.echo(_as_json(outcome) if as_json else _as_text(outcome))
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


def _prepare(path: Path, *, max_bytes: int, max_pixels: int) -> np.ndarray:
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)  # enough to tell that it is too large
    return preprocess(open_image(data, max_bytes=max_bytes, max_pixels=max_pixels))


def _error(outcome: Outcome[Path]) -> dict[str, str]:
    error = outcome.error
    if isinstance(error, ImageRejected):
        return {"code": error.code, "message": error.message}
    return {"code": "unreadable", "message": f"The file cannot be read: {error}."}


def _as_json(outcome: Outcome[Path]) -> str:
    if outcome.predictions is None:
        return json.dumps({"file": str(outcome.source), "error": _error(outcome)})
    predictions = [
        {"index": p.index, "label": p.label, "score": p.score} for p in outcome.predictions
    ]
    return json.dumps({"file": str(outcome.source), "predictions": predictions})


def _as_text(outcome: Outcome[Path]) -> str:
    if outcome.predictions is None:
        error = _error(outcome)
        return f"{outcome.source}\n  refused ({error['code']}): {error['message']}"
    rows = (f"  {p.score:7.2%}  {p.label}" for p in outcome.predictions)
    return "\n".join([str(outcome.source), *rows])
