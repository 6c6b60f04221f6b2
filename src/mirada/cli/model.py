"""``mirada model``: build-time commands for the ONNX backbone."""

from __future__ import annotations

from pathlib import Path

import click

from mirada.config import Settings
from mirada.vision.export import export_backbone, missing_build_modules


@click.group()
def model() -> None:
    """Manage the image model."""


@model.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the ONNX file (default: the configured model path).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def export(output: Path | None, force: bool) -> None:
    """Export EfficientNet-Lite0 to ONNX (needs the ``export`` extra: torch)."""
    missing = missing_build_modules()
    if missing:
        raise click.ClickException(
            f"Exporting needs the export extra ({', '.join(missing)} missing): "
            "pip install 'mirada[export]'"
        )
    path = output or Settings().resolved_model_path
    if path.exists() and not force:
        click.echo(f"{path} already exists; use --force to overwrite it.")
        return
    click.echo(f"Exporting {path} ...", err=True)
    try:
        written = export_backbone(path)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror or error}") from None
    click.echo(f"Wrote {written}")
