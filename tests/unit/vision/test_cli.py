"""``mirada classify`` and ``mirada model export`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mirada.cli.classify import LOCALE_VARIABLES, classify, environment_language
from mirada.cli.model import model
from mirada.config import ModelSettings
from mirada.vision.backbone import Backbone
from mirada.vision.labels import imagenet_label


@pytest.fixture
def runner(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MIRADA_MODEL_PATH", str(model_path))
    monkeypatch.setenv("MIRADA_INFERENCE_THREADS", "1")
    for name in LOCALE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
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


def test_spanish_class_names_keep_the_english_and_the_wordnet_id(
    runner: CliRunner, tmp_path: Path, cat_jpeg: bytes
) -> None:
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(cat_jpeg)
    result = runner.invoke(classify, [str(photo), "--json", "--lang", "es"])
    assert result.exit_code == 0, result.output
    predictions = json.loads(result.stdout)["predictions"]
    assert any(p["label"].startswith("gato ") for p in predictions)
    assert "Egyptian cat" in [p["label_en"] for p in predictions]
    for p in predictions:
        label = imagenet_label(p["index"])
        assert (p["label"], p["label_en"], p["wnid"]) == (label.names["es"], label.en, label.wnid)
        assert p["label"] != p["label_en"]


@pytest.mark.parametrize(
    ("environment", "first"),
    [
        ({"LANG": "es_ES.UTF-8"}, "café expreso"),
        ({"LANG": "es_ES.UTF-8", "LC_ALL": "en_US.UTF-8"}, "espresso"),
        ({"LANG": "fr_FR.UTF-8"}, "espresso"),
    ],
)
def test_language_from_the_environment(
    runner: CliRunner,
    tmp_path: Path,
    coffee_jpeg: bytes,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    first: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(coffee_jpeg)
    result = runner.invoke(classify, [str(photo), "--top-k", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].endswith(f"  {first}")


def test_lang_option_beats_the_environment(
    runner: CliRunner, tmp_path: Path, coffee_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(coffee_jpeg)
    result = runner.invoke(classify, [str(photo), "--json", "--top-k", "1", "--lang", "EN"])
    assert result.exit_code == 0, result.output
    [prediction] = json.loads(result.stdout)["predictions"]
    assert prediction == {
        "index": 967,
        "label": "espresso",
        "label_en": "espresso",
        "wnid": "n07920052",
        "score": prediction["score"],
    }


def test_unknown_lang_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    result = runner.invoke(classify, [str(tmp_path / "a.jpg"), "--lang", "fr"])
    assert result.exit_code == 2
    assert "'en', 'es'" in result.stderr


def test_environment_language_reads_like_gettext() -> None:
    assert environment_language({}) == "en"
    assert environment_language({"LANG": "es_MX.UTF-8"}) == "es"
    assert environment_language({"LANG": "es_MX.UTF-8", "LC_MESSAGES": "C"}) == "en"
    assert environment_language({"LANG": "", "LC_ALL": "", "LC_MESSAGES": "es"}) == "es"


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


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of its own, the precision left to each test."""
    monkeypatch.setenv("MIRADA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MIRADA_MODEL_PATH", raising=False)
    (tmp_path / "data" / "models").mkdir(parents=True)
    return tmp_path / "data"


def test_export_writes_the_fp32_file_while_int8_runs(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRADA_MODEL_PRECISION", "int8")
    fp32 = data_dir / "models" / "efficientnet-lite0.onnx"
    fp32.write_bytes(b"keep me")
    result = CliRunner().invoke(model, ["export"])
    assert result.exit_code == 0
    assert f"{fp32.resolve()} already exists" in result.stdout


def test_quantize_writes_the_file_int8_precision_runs(
    data_dir: Path, model_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data_dir / "models" / "efficientnet-lite0.onnx").symlink_to(model_path.resolve())
    result = CliRunner().invoke(model, ["quantize", "--photos", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Skipped 1 files" in result.stderr  # notes.jpg
    monkeypatch.setenv("MIRADA_MODEL_PRECISION", "int8")
    int8 = ModelSettings().resolved_model_path
    assert int8.name == "efficientnet-lite0-int8.onnx" and str(int8) in result.stdout
    assert Backbone(int8).run(np.zeros((1, 3, 224, 224), np.float32)).embeddings.shape == (1, 1280)
    again = CliRunner().invoke(model, ["quantize"])
    assert again.exit_code == 0 and "already exists" in again.stdout


def test_quantize_needs_the_fp32_model(data_dir: Path) -> None:
    result = CliRunner().invoke(model, ["quantize"])
    assert result.exit_code == 1
    assert "mirada model export" in result.stderr


def test_quantize_needs_photos_in_the_folder(
    data_dir: Path, model_path: Path, tmp_path: Path
) -> None:
    fp32 = data_dir / "models" / "efficientnet-lite0.onnx"
    fp32.symlink_to(model_path.resolve())
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no photo here")
    result = CliRunner().invoke(model, ["quantize", "--photos", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "No photos to calibrate on" in result.stderr
    assert list((data_dir / "models").iterdir()) == [fp32]
