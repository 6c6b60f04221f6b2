"""An exported version, run in plain onnxruntime, answers as the service does."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import onnxruntime as ort
from PIL import Image

from mirada.vision.preprocess import preprocess_batch
from tests.support.projects import JSON, Browser, digit_pngs, wait_for_jobs


def test_export_matches_the_service(app) -> None:
    browser = Browser(app, "exporter@example.com")
    project_id = browser.digits_project("Export", {3: "three", 8: "eight", 9: "nine"}, 6)
    job = browser.train(project_id)
    assert job["state"] == "succeeded", job

    bundle = browser.get(f"/projects/{project_id}/versions/1/export")
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        session = ort.InferenceSession(
            archive.read("model.onnx"), providers=["CPUExecutionProvider"]
        )
        described = json.loads(archive.read("model.json"))
    classes = described["classes"]
    assert sorted(classes) == ["eight", "nine", "three"]

    photos = [digit_pngs(digit, 1, skip=30)[0] for digit in (3, 8, 9)]
    served = browser.post(
        "/classify",
        {
            "model": str(project_id),
            "photos": [(io.BytesIO(p), f"{i}.png") for i, p in enumerate(photos)],
        },
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert served.status_code == 200
    wait_for_jobs(app)
    for photo, result in zip(photos, served.json["results"], strict=True):
        batch = preprocess_batch([Image.open(io.BytesIO(photo)).convert("RGB")])
        (exported,) = session.run(["probabilities"], {"image": batch})
        service = np.zeros(len(classes))
        for prediction in result["predictions"]:
            assert classes[prediction["index"]] == prediction["label"]
            service[prediction["index"]] = prediction["score"]
        assert np.abs(exported[0] - service).max() < 1e-4
        assert classes[int(exported[0].argmax())] == result["predictions"][0]["label"]


def test_export_name_and_readme_follow_the_user(app) -> None:
    browser = Browser(app, "exportadora@example.com")
    project_id = browser.digits_project("Dígitos a mano", {0: "cero", 1: "uno"}, 5)
    job = browser.train(project_id)
    assert job["state"] == "succeeded", job

    english = browser.get(f"/projects/{project_id}/versions/1/export")
    assert browser.post("/language", {"locale": "es", "next": "/"}).status_code == 302
    spanish = browser.get(f"/projects/{project_id}/versions/1/export")

    assert spanish.status_code == 200
    assert spanish.headers["Content-Disposition"] == (
        'attachment; filename="Digitos-a-mano-v1.zip"; '
        "filename*=UTF-8''D%C3%ADgitos%20a%20mano-v1.zip"
    )
    assert english.headers["Content-Disposition"] == spanish.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(spanish.data)) as archive:
        readme = archive.read("README.txt").decode()
    assert readme.startswith("Dígitos a mano, versión 1: un clasificador de imágenes")
    assert "Ejecútalo en Python (pip install onnxruntime pillow numpy):" in readme
    assert "    import json, sys\n" in readme
    with zipfile.ZipFile(io.BytesIO(english.data)) as archive:
        readme = archive.read("README.txt").decode()
    assert readme.startswith("Dígitos a mano, version 1: an image classifier")
