"""The inference path stays free of torch.

That ``vision/`` is free of the web stack, the database and torch is checked, for every one of
its modules, in ``tests/unit/test_boundaries.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


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
    loaded: list[str] = json.loads(result.stdout)
    return loaded


@pytest.mark.parametrize("module", ["mirada.cli.classify", "mirada.cli.model"])
def test_commands_import_no_torch(module: str) -> None:
    assert imported_after([module], {"torch"}) == []


def test_web_app_imports_no_ml_runtime_until_inference_runs() -> None:
    assert imported_after(["mirada.web", "mirada.inference"], {"onnxruntime", "torch"}) == []
