"""The merged ONNX classifier and the downloadable bundle, run in plain onnxruntime."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from mirada.vision.backbone import Backbone
from mirada.vision.heads import Head, train_head
from mirada.vision.intake import open_image
from mirada.vision.merge import PREPROCESSING, export_bundle, merged_classifier
from mirada.vision.preprocess import preprocess_batch
from tests.unit.vision.conftest import Digits

INTRO = "Digits, a classifier (the web writes this part in the user's language)."


@pytest.fixture(scope="module")
def head(digits: Digits) -> Head:
    names = tuple(f"digit {name}" for name in digits.class_names)
    return train_head(digits.embeddings[digits.train], digits.labels[digits.train], names)


@pytest.fixture(scope="module")
def merged(model_path: Path, head: Head) -> bytes:
    return merged_classifier(model_path, head)


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def test_same_probabilities_as_backbone_and_head(
    merged: bytes,
    head: Head,
    backbone: Backbone,
    digits: Digits,
    cat_jpeg: bytes,
    coffee_jpeg: bytes,
) -> None:
    photos = [
        open_image(jpeg, max_bytes=10**7, max_pixels=10**7) for jpeg in (cat_jpeg, coffee_jpeg)
    ]
    batch = preprocess_batch([*photos, *digits.photos[::45]])
    expected = head.probabilities(backbone.run(batch).embeddings)
    [actual] = session(merged).run(["probabilities"], {"image": batch})
    assert actual.shape == (12, 10) and actual.dtype == np.float32
    assert np.max(np.abs(actual - expected)) < 1e-4
    assert (actual[2:].argmax(axis=1) == np.arange(10)).mean() >= 0.8


def test_one_output_and_the_backbone_opset(merged: bytes, model_path: Path) -> None:
    model = onnx.load_from_string(merged)
    assert [output.name for output in model.graph.output] == ["probabilities"]
    assert [i.name for i in model.graph.input] == ["image"]
    assert model.opset_import == onnx.load(str(model_path)).opset_import
    assert not any("logits" in node.output for node in model.graph.node)  # ImageNet branch gone


def test_metadata(merged: bytes, head: Head) -> None:
    metadata = session(merged).get_modelmeta().custom_metadata_map
    assert json.loads(metadata["classes"]) == list(head.class_names)
    assert json.loads(metadata["preprocessing"]) == PREPROCESSING


def test_bundle(model_path: Path, head: Head, merged: bytes) -> None:
    data = export_bundle(model_path, head, name="Digits", version=3, readme_intro=INTRO)
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert sorted(bundle.namelist()) == ["README.txt", "model.json", "model.onnx"]
        description = json.loads(bundle.read("model.json"))
        assert bundle.read("model.onnx") == merged
        readme = bundle.read("README.txt").decode()
    assert description["name"] == "Digits" and description["version"] == 3
    assert description["classes"] == list(head.class_names)
    assert description["output"] == "probabilities"
    assert description["input"]["shape"] == ["batch", 3, 224, 224]
    assert readme.startswith(INTRO + "\n\n    import json, sys\n")
    again = export_bundle(model_path, head, name="Digits", version=3, readme_intro=INTRO)
    assert again == data  # reproducible


def test_readme_example_runs(model_path: Path, head: Head, tmp_path: Path, cat_jpeg: bytes) -> None:
    bundle = export_bundle(model_path, head, name="D", version=1, readme_intro=INTRO)
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        z.extractall(tmp_path)
    readme = (tmp_path / "README.txt").read_text()
    code = "\n".join(line[4:] for line in re.findall(r"^    .*$", readme, flags=re.MULTILINE))
    (tmp_path / "classify.py").write_text(code)
    (tmp_path / "cat.jpg").write_bytes(cat_jpeg)
    result = subprocess.run(
        [sys.executable, "classify.py", "cat.jpg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r"digit \d: [01]\.\d{3}", line) for line in lines)
