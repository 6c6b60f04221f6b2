"""The inference path stays free of torch, and the vision package free of the web stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

VISION = [
    "mirada.vision",
    "mirada.vision.intake",
    "mirada.vision.thumbnail",
    "mirada.vision.preprocess",
    "mirada.vision.labels",
    "mirada.vision.backbone",
    "mirada.vision.predictions",
    "mirada.vision.pipeline",
    "mirada.vision.export",
    "mirada.vision.heads",
    "mirada.vision.evaluation",
    "mirada.vision.confusion_plot",
    "mirada.vision.merge",
    "mirada.vision.budget",
]


def imported_after(modules: list[str], watched: set[str]) -> list[str]:
    """Which ``watched`` top-level packages a fresh interpreter holds after the imports."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {watched!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_vision_imports_no_torch_flask_or_sqlalchemy() -> None:
    assert imported_after(VISION, {"torch", "flask", "sqlalchemy"}) == []


@pytest.mark.parametrize("module", ["mirada.cli.classify", "mirada.cli.model"])
def test_commands_import_no_torch(module: str) -> None:
    assert imported_after([module], {"torch"}) == []


def test_web_app_imports_no_ml_runtime_until_inference_runs() -> None:
    assert imported_after(["mirada.web", "mirada.inference"], {"onnxruntime", "torch"}) == []
