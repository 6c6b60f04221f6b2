"""``mirada model``: build-time commands for the ONNX backbone."""

from __future__ import annotations

import time
from pathlib import Path

import click
from PIL import Image

from mirada.config import ModelSettings
from mirada.vision.backbone import ModelNotFound
from mirada.vision.export import export_backbone, missing_build_modules
from mirada.vision.intake import ImageRejected, open_image


@click.group()
def model() -> None:
    """Manage the image model."""


def _fp32_path() -> Path:
    """The float model's file, whatever ``MIRADA_MODEL_PRECISION`` picks to run."""
    return ModelSettings(model_precision="fp32").resolved_model_path


@model.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the ONNX file (default: the configured fp32 model path).",
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
    path = output or _fp32_path()
    if path.exists() and not force:
        click.echo(f"{path} already exists; use --force to overwrite it.")
        return
    click.echo(f"Exporting {path} ...", err=True)
    try:
        written = export_backbone(path)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror or error}") from None
    click.echo(f"Wrote {written}")


@model.command()
@click.option(
    "--source",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The fp32 ONNX file (default: the configured fp32 model path).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the int8 file (default: next to the fp32 one, named …-int8.onnx).",
)
@click.option(
    "--photos",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of your own photos to calibrate on (default: scikit-learn's sample photos).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def quantize(source: Path | None, output: Path | None, photos: Path | None, force: bool) -> None:
    """Write a statically quantised int8 copy of the backbone (run it with
    MIRADA_MODEL_PRECISION=int8)."""
    # onnxruntime.quantization takes a second to import: only this command pays for it.
    from mirada.vision.calibration import calibration_set, default_calibration
    from mirada.vision.quantize import quantize_backbone

    fp32 = source or _fp32_path()
    if not fp32.is_file():
        raise click.ClickException(str(ModelNotFound(fp32)))
    path = output or fp32.with_name(f"{fp32.stem}-int8{fp32.suffix}")
    if path.exists() and not force:
        click.echo(f"{path} already exists; use --force to overwrite it.")
        return
    images = calibration_set(_read_photos(photos)) if photos else default_calibration()
    click.echo(f"Calibrating on {len(images)} images, writing {path} ...", err=True)
    started = time.monotonic()
    try:
        written = quantize_backbone(fp32, path, images)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {written} in {time.monotonic() - started:.0f} s")


def _read_photos(folder: Path) -> list[Image.Image]:
    """The images in ``folder`` and below (at most ``MAX_PHOTOS``, spread over the sorted
    list), decoded like uploads; files that are not acceptable images are skipped."""
    from mirada.vision.calibration import MAX_PHOTOS, shrunk

    settings = ModelSettings()
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    files = files[:: max(1, -(-len(files) // MAX_PHOTOS))]
    photos, skipped = [], 0
    for file in files:
        try:
            data = file.read_bytes() if file.stat().st_size <= settings.max_upload_bytes else b""
            image = open_image(
                data,
                max_bytes=settings.max_upload_bytes,
                max_pixels=settings.max_image_pixels,
                max_jpeg_pixels=settings.max_jpeg_pixels,
            )
        except (OSError, ImageRejected):
            skipped += 1
            continue
        photos.append(shrunk(image))
    if skipped:
        click.echo(f"Skipped {skipped} files that are not acceptable images.", err=True)
    if not photos:
        raise click.ClickException(f"No photos to calibrate on in {folder}.")
    return photos
