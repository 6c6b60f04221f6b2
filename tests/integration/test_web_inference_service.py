"""The web app with its model in `mirada inference` service processes: the same answers
as in-process, a replica killed while requests flow, every replica down, projects."""

from __future__ import annotations

import io
import json
import signal
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx
import pytest
from flask import Flask
from PIL import Image
from skimage import data

from mirada.db.app_session import db
from mirada.inference import InferenceUnavailable
from mirada.inference.http import HttpInference
from mirada.inference.in_process import InProcessInference
from mirada.web import create_app
from tests.conftest import make_settings
from tests.support.images import encode
from tests.support.inference_service import ServiceProcess
from tests.support.projects import JSON, Browser, digit_pngs
from tests.support.web import WebClient

TOKEN = "replica-token-" + uuid.uuid4().hex


def replicas(model_path: Path, count: int) -> list[ServiceProcess]:
    started = [
        ServiceProcess(model_path=model_path, MIRADA_INFERENCE_TOKEN=TOKEN) for _ in range(count)
    ]
    return [service.wait_ready() for service in started]


@pytest.fixture(scope="module")
def pair(model_path: Path) -> Iterator[list[ServiceProcess]]:
    """Two replicas for the module's tests that leave them running."""
    services = replicas(model_path, 2)
    yield services
    for service in services:
        service.kill()


def web_app(tmp_path: Path, model_path: Path, urls: list[str], timeout_s: float = 20.0) -> Flask:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'web.sqlite3'}",
        model_path=model_path,
        inference_url=",".join(urls),
        inference_token=TOKEN,
        inference_timeout_s=timeout_s,
    )
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def stop_reaper() -> Iterator[list[Flask]]:
    apps: list[Flask] = []
    yield apps
    for app in apps:
        app.extensions["mirada.reaper"].stop()


def classify(web: WebClient, photo: bytes, name: str = "photo.jpg"):
    return web.submit(
        "/classify",
        {"photos": [(io.BytesIO(photo), name)]},
        content_type="multipart/form-data",
        headers=JSON,
    )


def test_the_service_answers_as_the_in_process_model_does(
    pair: list[ServiceProcess], model_path: Path
) -> None:
    photos = [Image.fromarray(data.chelsea()), Image.fromarray(data.coffee())]
    local = InProcessInference(model_path=model_path, threads=1)
    remote = HttpInference(urls=[s.url for s in pair], token=TOKEN)
    assert remote.model == local.model
    for here, there in zip(local.classify(photos), remote.classify(photos), strict=True):
        assert [p.index for p in here] == [p.index for p in there]
        assert np.allclose([p.score for p in here], [p.score for p in there], atol=1e-4)
    assert np.allclose(local.embed(photos), remote.embed(photos), atol=1e-4)


def test_a_wrong_token_is_refused_not_retried_forever(pair: list[ServiceProcess]) -> None:
    remote = HttpInference(urls=[s.url for s in pair], token="not-the-token")
    with pytest.raises(InferenceUnavailable, match="401"):
        remote.classify([Image.fromarray(data.chelsea())])


def test_every_request_succeeds_while_a_replica_is_killed(
    tmp_path: Path, model_path: Path, stop_reaper: list[Flask]
) -> None:
    victim, survivor = replicas(model_path, 2)
    app = web_app(tmp_path, model_path, [victim.url, survivor.url])
    stop_reaper.append(app)
    photos = [encode(data.chelsea(), quality=q) for q in range(70, 94)]  # 24 distinct photos
    statuses: list[int] = []
    started = threading.Barrier(5)

    def user(index: int) -> None:
        web = WebClient(app)
        assert web.register(f"user{index}@example.com").status_code == 302
        started.wait()
        for photo in photos[index::4]:
            statuses.append(classify(web, photo).status_code)

    try:
        threads = [threading.Thread(target=user, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        started.wait()
        while len(statuses) < 4:  # requests are flowing through both replicas
            threading.Event().wait(0.05)
        victim.kill()
        for thread in threads:
            thread.join(timeout=120)
        assert statuses == [200] * len(photos)
    finally:
        victim.kill()
        survivor.kill()


def test_with_every_replica_down_pages_answer_503_and_the_rest_works(
    tmp_path: Path, model_path: Path, cat_jpeg: bytes, stop_reaper: list[Flask]
) -> None:
    [gone] = replicas(model_path, 1)
    gone.kill()
    app = web_app(tmp_path, model_path, [gone.url])
    stop_reaper.append(app)
    web = WebClient(app)
    assert web.register("patient@example.com").status_code == 302
    refused = classify(web, cat_jpeg)
    assert refused.status_code == 503
    assert refused.json["error"]["code"] == "model_unavailable"
    assert refused.headers["Retry-After"] == "10"
    page = web.submit(
        "/classify",
        {"photos": [(io.BytesIO(cat_jpeg), "cat.jpg")]},
        content_type="multipart/form-data",
    )
    assert page.status_code == 503
    assert "not available right now" in page.get_data(as_text=True)
    assert web.get("/history").status_code == 200
    assert web.get("/projects").status_code == 200
    assert web.get("/healthz").status_code == 200


def test_a_project_trains_and_predicts_through_the_service(
    tmp_path: Path, model_path: Path, pair: list[ServiceProcess], stop_reaper: list[Flask]
) -> None:
    app = web_app(tmp_path, model_path, [s.url for s in pair])
    stop_reaper.append(app)
    browser = Browser(app, "teacher@example.com")
    project_id = browser.create_project("Digits over HTTP")
    for digit in (0, 1):
        class_id = browser.add_class(project_id, str(digit))
        photos = [(d, f"{digit}-{i}.png") for i, d in enumerate(digit_pngs(digit, 12))]
        assert browser.upload(project_id, class_id, photos).status_code == 200
    job = browser.train(project_id)
    assert job["state"] == "succeeded", job
    [held_back] = digit_pngs(1, 1, skip=40)
    response = browser.post(
        "/classify",
        {"model": str(project_id), "photos": [(io.BytesIO(held_back), "one.png")]},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.json["results"]
    assert result["predictions"][0]["label"] == "1"


class Garbled(BaseHTTPRequestHandler):
    """A replica gone wrong: it answers 200 with whatever ``answers`` holds for the path."""

    answers: ClassVar[dict[str, bytes]] = {}

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = self.answers.get(self.path.split("?")[0], b"{}")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


MODELS = json.dumps({"models": [{"name": "imagenet", "model": "m", "version": "v"}]}).encode()


@pytest.mark.parametrize(
    "answers",
    [
        {"/v1/models": b"not json"},
        {"/v1/models": b'{"models": []}'},
        {"/v1/models": MODELS, "/v1/models/imagenet/predict": b"junk"},
        {"/v1/models": MODELS, "/v1/models/imagenet/predict": b'{"results": []}'},
        {"/v1/models": MODELS, "/v1/models/imagenet/predict": b'{"results": {"a": 1}}'},
        {
            "/v1/models": MODELS,
            "/v1/models/imagenet/predict": json.dumps(
                {"results": [{"predictions": [{"index": 99999, "label": "x", "score": 0.5}] * 5}]}
            ).encode(),
        },
        {
            "/v1/models": MODELS,
            "/v1/models/imagenet/predict": b'{"results": [{"predictions": '
            + b'[{"index": 1, "label": "x", "score": NaN}]}]}',
        },
    ],
)
def test_a_replica_answering_garbage_is_a_503_and_nothing_is_kept(
    tmp_path: Path,
    model_path: Path,
    cat_jpeg: bytes,
    stop_reaper: list[Flask],
    answers: dict[str, bytes],
) -> None:
    Garbled.answers = answers
    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbled)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = web_app(tmp_path, model_path, [f"http://127.0.0.1:{server.server_address[1]}"])
        stop_reaper.append(app)
        web = WebClient(app)
        assert web.register("careful@example.com").status_code == 302
        refused = classify(web, cat_jpeg)
        assert (refused.status_code, refused.json["error"]["code"]) == (503, "model_unavailable")
        blobs = app.extensions["mirada.settings"].resolved_data_dir / "blobs"
        assert not [p for p in blobs.rglob("*") if p.is_file()]
        assert web.get("/history").status_code == 200
    finally:
        server.shutdown()


def test_a_frozen_replica_costs_a_share_of_the_deadline_then_the_other_answers(
    tmp_path: Path, model_path: Path, stop_reaper: list[Flask]
) -> None:
    frozen, alive = replicas(model_path, 2)
    # Each of the three attempts (both replicas, then the first again) may take 2 s.
    app = web_app(tmp_path, model_path, [frozen.url, alive.url], timeout_s=6.0)
    stop_reaper.append(app)
    try:
        web = WebClient(app)
        assert web.register("steady@example.com").status_code == 302
        frozen.process.send_signal(signal.SIGSTOP)
        photos = [encode(data.coffee(), quality=q) for q in range(80, 86)]
        assert [classify(web, photo).status_code for photo in photos] == [200] * len(photos)
    finally:
        frozen.process.send_signal(signal.SIGCONT)
        frozen.kill()
        alive.kill()


def test_replicas_on_two_models_answer_only_for_the_model_asked_for(
    model_path: Path, tmp_path: Path, pair: list[ServiceProcess]
) -> None:
    """During a rolling change of model, a replica on the other model is not asked: its
    numbers would not fit the head, or the tag, the caller checked against."""
    other_path = tmp_path / "other.onnx"
    other = onnx.load(str(model_path))
    onnx.helper.set_model_props(other, {"exported": "again"})  # same weights, another file
    onnx.save(other, str(other_path))
    [renewed] = replicas(other_path, 1)
    try:
        client = HttpInference(urls=[pair[0].url, renewed.url], token=TOKEN, timeout_s=20)
        local = InProcessInference(model_path=model_path)
        ours, theirs = local.model.version, InProcessInference(model_path=other_path).model.version
        assert ours != theirs
        cat = Image.fromarray(data.chelsea())
        for _ in range(4):  # round-robin would send every other call to the renewed replica
            assert client.embed([cat], version=ours).shape == (1, 1280)
            assert client.classify([cat], version=theirs)[0][0].index in range(1000)
        with pytest.raises(InferenceUnavailable, match="runs model"):
            client.embed([cat], version="0123456789ab")
    finally:
        renewed.kill()
