"""The inference service as a real process (``mirada inference``) with the real model.

One module-scoped service answers the contract, bad input, the token, batching and the
cache; small services of their own show the overload, the deadline and the SIGTERM.
Waits are made long by the settings (a batch that waits seconds to fill up), so what is
in the queue when a request arrives does not depend on this machine's speed.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.inference.service.protocol import READ_TIMEOUT_S
from mirada.vision.backbone import Backbone
from mirada.vision.intake import open_image
from mirada.vision.preprocess import model_pixels, normalise
from tests.support.images import encode, png_declaring
from tests.support.inference_service import ServiceProcess as Service

TOKEN = "test-token-" + "x" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREDICT = "/v1/models/imagenet/predict"
CATS = {"tabby", "tiger cat", "Egyptian cat"}
BYTE_LIMIT = 1_000_000
RGB224 = "application/x-mirada-rgb224"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    finished: float  # time.monotonic() when the answer was read

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.body)  # type: ignore[no-any-return]


def call(port: int, method: str, path: str, body: bytes | None = None, **headers: str) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, content, time.monotonic())
    finally:
        connection.close()


def post(port: int, body: bytes, content_type: str, path: str = PREDICT, **headers: str) -> Answer:
    return call(port, "POST", path, body, **{"Content-Type": content_type, **AUTH, **headers})


def metric(port: int, name: str) -> float:
    """The sum of a metric's samples named exactly ``name`` (any labels)."""
    text = call(port, "GET", "/metrics").body.decode()
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{.*\}})? (\S+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(text))


@pytest.fixture(scope="module")
def service(model_path: Path) -> Iterator[Service]:
    running = Service(
        model_path=model_path,
        args=("--max-wait-ms", "20"),
        MIRADA_INFERENCE_TOKEN=TOKEN,
        MIRADA_MAX_UPLOAD_BYTES=str(BYTE_LIMIT),
    ).wait_ready()
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def backbone(model_path: Path) -> Backbone:
    return Backbone(model_path, threads=1)


def photo_pixels(photo: np.ndarray) -> np.ndarray:
    return model_pixels(Image.fromarray(photo))


# The contract.


def test_a_raw_jpeg_of_a_cat(service: Service, cat_jpeg: bytes) -> None:
    answer = post(service.port, cat_jpeg, "image/jpeg", path=f"{PREDICT}?top_k=3")
    assert answer.status == 200
    body = answer.json()
    assert body["predictions"][0]["label"] in CATS
    assert len(body["predictions"]) == 3
    assert body["model"]["name"] == "imagenet/efficientnet-lite0"
    assert re.fullmatch(r"[0-9a-f]{12}", body["model"]["version"])
    assert set(body["timing_ms"]) == {"queue", "decode", "inference", "total"}
    assert body["cached"] is False


def test_multipart_refuses_the_bad_part_alone(service: Service, cat_jpeg: bytes) -> None:
    boundary = "mirada-boundary"
    files = [
        ("cat.jpg", cat_jpeg),
        ("notes.txt", b"not an image"),
        ("coffee.png", encode(data.coffee(), "PNG")),
    ]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
            for name, content in files
        )
        + f"--{boundary}--\r\n".encode()
    )
    answer = post(service.port, body, f"multipart/form-data; boundary={boundary}")
    assert answer.status == 200
    cat, notes, coffee = answer.json()["results"]
    assert cat["filename"] == "cat.jpg" and cat["predictions"][0]["label"] in CATS
    assert notes == {"filename": "notes.txt", "error": notes["error"]}
    assert notes["error"]["code"] == "not_an_image"
    assert coffee["predictions"][0]["label"] == "espresso"


def test_rgb224_matches_the_model_in_process(service: Service, backbone: Backbone) -> None:
    pixels = np.stack([photo_pixels(data.chelsea()), photo_pixels(data.coffee())])
    answer = post(service.port, pixels.tobytes(), RGB224, path=f"{PREDICT}?top_k=1")
    assert answer.status == 200
    expected = np.argmax(backbone.run(normalise(pixels)).logits, axis=1)
    got = [result["predictions"][0]["index"] for result in answer.json()["results"]]
    assert got == expected.tolist()


def test_embeddings_equal_the_model_in_process(
    service: Service, backbone: Backbone, cat_jpeg: bytes
) -> None:
    decoded = open_image(cat_jpeg, max_bytes=BYTE_LIMIT, max_pixels=40_000_000)
    expected = backbone.run(normalise(model_pixels(decoded)[np.newaxis])).embeddings
    answer = post(service.port, cat_jpeg, "image/jpeg", path="/v1/embed")
    assert answer.status == 200
    np.testing.assert_allclose(np.array(answer.json()["embeddings"]), expected, atol=1e-4)

    pixels = np.stack([photo_pixels(data.coffee()), photo_pixels(data.astronaut())])
    raw = post(
        service.port, pixels.tobytes(), RGB224, path="/v1/embed", Accept="application/octet-stream"
    )
    assert raw.status == 200
    assert raw.headers["x-model-name"] == "imagenet/efficientnet-lite0"
    assert re.fullmatch(r"[0-9a-f]{12}", raw.headers["x-model-version"])
    got = np.frombuffer(raw.body, "<f4").reshape(2, 1280)
    np.testing.assert_allclose(got, backbone.run(normalise(pixels)).embeddings, atol=1e-4)


def test_models_health_and_readiness(service: Service) -> None:
    models = call(service.port, "GET", "/v1/models", **AUTH).json()["models"]
    assert models[0]["name"] == "imagenet"
    assert (models[0]["classes"], models[0]["embedding_size"], models[0]["precision"]) == (
        1000,
        1280,
        "fp32",
    )
    assert call(service.port, "GET", "/healthz").json() == {"status": "ok"}
    assert call(service.port, "GET", "/readyz").status == 200


# Bad input: a clear 4xx in JSON, never a 500.


@pytest.mark.parametrize(
    ("body", "content_type", "query", "status", "code"),
    [
        (b"", "image/jpeg", "", 400, "empty"),
        (b"just some text, not a photo", "image/jpeg", "", 400, "not_an_image"),
        (encode(data.chelsea())[:3000], "image/jpeg", "", 400, "truncated"),
        (png_declaring(20_000, 20_000), "image/png", "", 422, "too_many_pixels"),
        (encode(data.chelsea()), "text/plain", "", 415, "unsupported_media_type"),
        (
            encode(Image.fromarray(data.chelsea()), "TIFF"),
            "image/tiff",
            "",
            415,
            "unsupported_format",
        ),
        (encode(data.chelsea()), "image/jpeg", "?top_k=0", 400, "bad_top_k"),
        (encode(data.chelsea()), "image/jpeg", "?top_k=1001", 400, "bad_top_k"),
        (encode(data.chelsea()), "image/jpeg", "?top_k=%C2%B2", 400, "bad_top_k"),  # ²
        (encode(data.chelsea()), "image/jpeg", "?top_k=" + "9" * 5000, 400, "bad_top_k"),
        (b"\x00" * 1000, RGB224, "", 400, "bad_rgb224"),
        (b"\x00" * (BYTE_LIMIT + 1), "image/jpeg", "", 413, "too_large"),
    ],
)
def test_bad_input(
    service: Service, body: bytes, content_type: str, query: str, status: int, code: str
) -> None:
    answer = post(service.port, body, content_type, path=PREDICT + query)
    assert (answer.status, answer.json()["error"]["code"]) == (status, code)


@pytest.mark.parametrize("deadline", ["²", "9" * 5000, "-5"])
def test_a_deadline_that_is_not_a_number_is_refused(service: Service, deadline: str) -> None:
    answer = post(service.port, encode(data.chelsea()), "image/jpeg", **{"X-Deadline-Ms": deadline})
    assert (answer.status, answer.json()["error"]["code"]) == (400, "bad_deadline")


def test_headers_past_64_kb_are_refused_while_they_arrive(service: Service) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000)
        answer = sock.recv(200)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert call(service.port, "GET", "/healthz").status == 200


def test_connections_whose_request_does_not_arrive_in_time_are_closed(service: Service) -> None:
    idle = socket.create_connection(("127.0.0.1", service.port))
    dribbling = socket.create_connection(("127.0.0.1", service.port))
    head = f"POST /v1/embed HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH['Authorization']}\r\n"
    dribbling.sendall(head.encode() + b"Content-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\nab")
    for sock in (idle, dribbling):
        sock.settimeout(READ_TIMEOUT_S + 20)
        with sock:
            assert sock.recv(100) == b""  # closed by the server, without an answer
    assert call(service.port, "GET", "/healthz").status == 200


def test_a_body_that_lies_about_its_length_is_cut_off_while_streaming(service: Service) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    chunks = (b"\xff" * 100_000 for _ in range(20))  # 2 MB, chunked: no Content-Length
    connection.request("POST", PREDICT, body=chunks, headers={"Content-Type": "image/jpeg", **AUTH})
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["error"]["code"]) == (413, "too_large")
    connection.close()


def test_the_token_is_required(service: Service, cat_jpeg: bytes) -> None:
    headers = {"Content-Type": "image/jpeg"}
    assert call(service.port, "POST", PREDICT, cat_jpeg, **headers).status == 401
    wrong = {**headers, "Authorization": "Bearer not-the-token"}
    answer = call(service.port, "POST", PREDICT, cat_jpeg, **wrong)
    assert (answer.status, answer.json()["error"]["code"]) == (401, "unauthorized")
    assert call(service.port, "GET", "/v1/models").status == 401
    assert post(service.port, cat_jpeg, "image/jpeg").status == 200


# Batching and the cache.


def test_concurrent_requests_are_batched(service: Service) -> None:
    before = metric(service.port, "mirada_inference_batch_size_count")
    singles = metric(service.port, 'mirada_inference_batch_size_bucket{le="1.0"}')
    bodies = [encode(data.chelsea(), quality=50 + q) for q in range(16)]  # 16 distinct bodies
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda b: post(service.port, b, "image/jpeg"), bodies))
    assert [a.status for a in answers] == [200] * 16
    batches = metric(service.port, "mirada_inference_batch_size_count") - before
    assert batches < 16  # fewer model runs than requests
    assert (
        batches - (metric(service.port, 'mirada_inference_batch_size_bucket{le="1.0"}') - singles)
        > 0
    )


def test_the_same_photo_twice_is_answered_from_the_cache(service: Service) -> None:
    photo = encode(data.astronaut(), quality=81)
    hits = metric(service.port, "mirada_inference_cache_hits_total")
    first = post(service.port, photo, "image/jpeg")
    second = post(service.port, photo, "image/jpeg")
    assert (first.json()["cached"], second.json()["cached"]) == (False, True)
    assert second.json()["predictions"] == first.json()["predictions"]
    assert metric(service.port, "mirada_inference_cache_hits_total") == hits + 1


# The process.


def test_the_serving_process_loads_no_flask_sqlalchemy_or_torch(service: Service) -> None:
    cmdline = Path(f"/proc/{service.process.pid}/cmdline").read_bytes().split(b"\0")
    assert b"-m" in cmdline and b"mirada.inference.service" in cmdline  # mirada inference exec'd it
    code = (
        "import json, sys, mirada.inference.service.app, mirada.inference.service.__main__\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = set(json.loads(loaded.stdout))
    assert "onnxruntime" in modules and "starlette" in modules
    assert modules.isdisjoint({"flask", "sqlalchemy", "torch", "werkzeug"})


def test_overload_is_refused_at_once_and_passes(model_path: Path) -> None:
    # Admitted work waits 2 s for a batch to fill up; the queue holds 2 images.
    small = Service(
        model_path=model_path,
        args=("--max-queue", "2", "--max-batch-size", "64", "--max-wait-ms", "2000"),
    ).wait_ready()
    try:
        late = post(
            small.port, photo_pixels(data.chelsea()).tobytes(), RGB224, **{"X-Deadline-Ms": "300"}
        )
        assert (late.status, late.json()["error"]["code"]) == (504, "deadline_exceeded")
        while metric(small.port, "mirada_inference_queue_depth") > 0:
            time.sleep(0.1)
        bodies = [encode(data.chelsea(), quality=40 + q) for q in range(24)]
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda b: post(small.port, b, "image/jpeg"), bodies))
        refused = [a for a in answers if a.status == 503]
        served = [a for a in answers if a.status == 200]
        assert len(refused) + len(served) == 24 and refused and served
        assert all(
            a.headers["retry-after"] == "1" and a.json()["error"]["code"] == "busy" for a in refused
        )
        assert max(a.finished for a in refused) < min(a.finished for a in served)
        assert post(small.port, encode(data.coffee()), "image/jpeg").status == 200
    finally:
        assert small.stop() == 0


def test_sigterm_lets_the_requests_in_flight_finish(model_path: Path) -> None:
    draining = Service(
        model_path=model_path, args=("--max-wait-ms", "3000", "--max-batch-size", "64")
    ).wait_ready()
    bodies = [encode(data.coffee(), quality=60 + q) for q in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda b: post(draining.port, b, "image/jpeg"), bodies)
        while metric(draining.port, "mirada_inference_queue_depth") < 8:
            time.sleep(0.05)
        draining.process.send_signal(signal.SIGTERM)
        statuses = [answer.status for answer in answers]
    assert statuses == [200] * 8
    assert draining.process.wait(timeout=30) == 0


def test_a_model_that_cannot_be_loaded_is_logged_and_never_ready(
    model_path: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "cut-short.onnx"
    corrupt.write_bytes(model_path.read_bytes()[:1_000_000])
    service = Service(model_path=corrupt)
    try:
        deadline = time.monotonic() + 30
        while "cannot be loaded" not in service.output():
            assert time.monotonic() < deadline, service.output()
            time.sleep(0.2)
        assert call(service.port, "GET", "/readyz").status == 503
        assert call(service.port, "GET", "/healthz").status == 200
    finally:
        service.kill()
