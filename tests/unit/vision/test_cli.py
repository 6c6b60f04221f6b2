"""``mirada classify`` and ``mirada model export`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mirada.cli.classify import classify
from mirada.cli.model import model
from mirada.vision.backbone import Backbone


@pytest.fixture
def runner(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MIRADA_MODEL_PATH", str(model_path))
    monkeypatch.setenv("MIRADA_INFERENCE_THREADS", "1")
    return CliRunner()


@pytest.fixture
def folder(tmp_path: Path, cat_jpeg: bytes) -> Path:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(cat_jpeg)
    (tmp_path / "photos" / "notes.jpg").write_text("not a photo, whatever the name says")
    (tmp_path / "photos" / ".hidden.jpg").write_bytes(cat_jpeg)
    return tmp_path / "photos"


def test_json_lines_for_a_folder_with_a_bad_file(runner: CliRunner, folder: Path) -> None:
    result = runner.invoke(classify, [str(folder), "--json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(line["file"]).name for line in lines] == ["cat.jpg", "notes.jpg"]
    cat, notes = lines
    assert len(cat["predictions"]) == 5
    assert any("cat" in p["label"] for p in cat["predictions"])
    assert all(0 <= p["index"] < 1000 and 0 < p["score"] <= 1 for p in cat["predictions"])
    assert notes["error"]["code"] == "unsupported_format"
    assert "predictions" not in notes


def test_top_k(runner: CliRunner, tmp_path: Path, coffee_jpeg: bytes) -> None:
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(coffee_jpeg)
    result = runner.invoke(classify, [str(photo), "--json", "--top-k", "3"])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    predictions = json.loads(line)["predictions"]
    assert len(predictions) == 3
    assert predictions[0]["label"] == "espresso"


@pytest.mark.parametrize("k", ["0", "1001"])
def test_top_k_out_of_range(runner: CliRunner, tmp_path: Path, k: str) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    result = runner.invoke(classify, [str(tmp_path / "a.jpg"), "--top-k", k])
    assert result.exit_code == 2


def test_human_output(runner: CliRunner, tmp_path: Path, coffee_jpeg: bytes) -> None:
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(coffee_jpeg)
    result = runner.invoke(classify, [str(photo), "--top-k", "2"])
    assert result.exit_code == 0, result.output
    header, first, second = result.stdout.splitlines()
    assert header == str(photo)
    assert first.endswith("espresso") and "%" in first
    assert second.strip()


def test_missing_model(tmp_path: Path, cat_jpeg: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRADA_MODEL_PATH", str(tmp_path / "missing.onnx"))
    (tmp_path / "cat.jpg").write_bytes(cat_jpeg)
    result = CliRunner().invoke(classify, [str(tmp_path / "cat.jpg")])
    assert result.exit_code == 1
    assert "mirada model export" in result.stderr


def test_export_leaves_an_existing_file_alone(tmp_path: Path) -> None:
    existing = tmp_path / "model.onnx"
    existing.write_bytes(b"keep me")
    result = CliRunner().invoke(model, ["export", "--output", str(existing)])
    assert result.exit_code == 0
    assert "already exists" in result.stdout
    assert existing.read_bytes() == b"keep me"


def test_export_writes_a_working_model(tmp_path: Path) -> None:
    target = tmp_path / "models" / "lite0.onnx"
    result = CliRunner().invoke(model, ["export", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout
    assert Backbone(target).run(np.zeros((1, 3, 224, 224), np.float32)).logits.shape == (1, 1000)
    assert [p.name for p in target.parent.iterdir()] == ["lite0.onnx"]  # no temporary left
