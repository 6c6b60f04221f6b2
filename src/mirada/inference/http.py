"""Inference by the `mirada inference` service replicas, over pooled HTTP connections.

The web sends model-ready pixels (``application/x-mirada-rgb224``): it has decoded the
photo already, to check it and make its thumbnail, so the service does not decode it
again. A replica that cannot be reached, drops the connection or is full is skipped for
the next one; when none answers within the deadline the caller gets
``InferenceUnavailable`` (the pages answer 503).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import urllib3
from PIL import Image

from mirada.inference.base import EMBEDDING_SIZE, InferenceUnavailable, ModelInfo
from mirada.vision.labels import NUM_CLASSES
from mirada.vision.predictions import Prediction, checked_prediction
from mirada.vision.preprocess import model_pixels

log = logging.getLogger(__name__)

PIXELS_TYPE = "application/x-mirada-rgb224"
CONNECT_TIMEOUT_S = 1.0
MODEL_INFO_TTL_S = 60.0  # a replica rolled to another model is noticed within this
# A replica that failed, or runs another model than the one asked for, is tried last for
# this long: longer than a frozen replica's share of a call, so that it costs one call.
SHUNNED_S = 30.0
# Answers worth asking another replica about: failed, full, draining, a bad gateway.
RETRY_STATUSES = frozenset({500, 502, 503, 504})


class HttpInference:
    """Round-robin over the replicas at ``urls``; each call retries on the others."""

    def __init__(
        self, *, urls: Sequence[str], token: str = "", timeout_s: float = 30.0, pool_size: int = 8
    ) -> None:
        if not urls:
            raise ValueError("at least one inference service URL is needed")
        self.urls = list(urls)
        self.timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._pool = urllib3.PoolManager(num_pools=len(self.urls), maxsize=pool_size, retries=False)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._model: tuple[float, ModelInfo] | None = None
        self._shunned: dict[str, float] = {}  # replica -> until when it is tried last

    @property
    def model(self) -> ModelInfo:
        """The model the replicas serve (asked again every minute)."""
        with self._lock:
            if self._model is not None and time.monotonic() - self._model[0] < MODEL_INFO_TTL_S:
                return self._model[1]
        try:
            answer = json.loads(self._call("GET", "/v1/models"))
            imagenet = next(m for m in answer["models"] if m["name"] == "imagenet")
            info = ModelInfo(name=str(imagenet["model"]), version=str(imagenet["version"]))
        except (ValueError, KeyError, TypeError, StopIteration) as error:
            raise _garbled("/v1/models", error) from error
        with self._lock:
            self._model = (time.monotonic(), info)
        return info

    def classify(
        self, images: Sequence[Image.Image], *, k: int = 5, version: str | None = None
    ) -> list[list[Prediction]]:
        if not images:
            return []
        data = self._call(
            "POST",
            f"/v1/models/imagenet/predict?top_k={k}",
            body=_pixels(images),
            headers={"Content-Type": PIXELS_TYPE, "Cache-Control": "no-store"},
            version=version,
        )
        try:
            results = json.loads(data)["results"]
            ranked = [
                [checked_prediction(p, classes=NUM_CLASSES) for p in result["predictions"]]
                for result in results
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise _garbled("predict", error) from error
        if len(ranked) != len(images) or any(len(r) != min(k, NUM_CLASSES) for r in ranked):
            raise _garbled("predict", ValueError(f"{len(ranked)} answers for {len(images)}"))
        return ranked

    def embed(self, images: Sequence[Image.Image], *, version: str | None = None) -> np.ndarray:
        if not images:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        data = self._call(
            "POST",
            "/v1/embed",
            body=_pixels(images),
            headers={
                "Content-Type": PIXELS_TYPE,
                "Accept": "application/octet-stream",
                "Cache-Control": "no-store",
            },
            version=version,
        )
        if len(data) != len(images) * EMBEDDING_SIZE * 4:
            raise _garbled("embed", ValueError(f"{len(data)} bytes for {len(images)} images"))
        vectors = np.frombuffer(data, dtype="<f4")
        if not np.isfinite(vectors).all():
            raise _garbled("embed", ValueError("embeddings that are not finite numbers"))
        return vectors.reshape(len(images), EMBEDDING_SIZE).astype(np.float32)

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        version: str | None = None,
    ) -> bytes:
        """The body of the first replica's 200 answer (given ``version``, the first from a
        replica that runs that model), trying each replica once at most."""
        deadline = time.monotonic() + self.timeout_s
        turn = self._turn_order()
        # Each replica once, and the first one again: a pooled connection the replica closed
        # while idle fails once without the replica being down. No attempt may take the
        # whole budget: a frozen replica costs a share of it, then the next is asked.
        attempts = [*turn, turn[0]]
        share = self.timeout_s / len(attempts)
        reasons: list[str] = []
        mismatched = False
        for url in attempts:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait = min(left, max(share, CONNECT_TIMEOUT_S))
            try:
                response = self._pool.request(
                    method,
                    url + path,
                    body=body,
                    headers={**self._headers, **(headers or {})},
                    timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT_S, wait), read=wait),
                    preload_content=True,
                )
            except urllib3.exceptions.HTTPError as error:  # refused, reset, timed out
                reasons.append(f"{url}: {type(error).__name__}")
                self._shun(url)
                continue
            answered_by = response.headers.get("X-Model-Version")
            if response.status == 200 and version is not None and answered_by != version:
                # A replica rolled to another model: its numbers do not fit what the caller
                # checked against (a head, a stored tag). The next one is asked instead.
                reasons.append(f"{url}: runs model {answered_by}, not {version}")
                self._shun(url)
                mismatched = True
                continue
            if response.status == 200:
                return bytes(response.data)
            reasons.append(f"{url}: {response.status} {_error_code(response.data)}")
            if response.status not in RETRY_STATUSES:
                break  # the request itself was refused: another replica would say the same
            self._shun(url)
        if mismatched:  # no replica runs that model any more: ask again which one is served
            self._forget_model()
        log.warning("No inference replica answered %s %s: %s", method, path, "; ".join(reasons))
        raise InferenceUnavailable("no inference service answered: " + "; ".join(reasons))

    def _turn_order(self) -> list[str]:
        """The replicas in round-robin order, the ones that failed lately last."""
        first = next(self._turn) % len(self.urls)
        turn = self.urls[first:] + self.urls[:first]
        now = time.monotonic()
        with self._lock:
            shunned = {url for url, until in self._shunned.items() if until > now}
        return [u for u in turn if u not in shunned] + [u for u in turn if u in shunned]

    def _forget_model(self) -> None:
        with self._lock:
            self._model = None

    def _shun(self, url: str) -> None:
        with self._lock:
            self._shunned[url] = time.monotonic() + SHUNNED_S


def _garbled(what: str, error: Exception) -> InferenceUnavailable:
    log.error("The inference service answered %s with something unreadable: %s", what, error)
    return InferenceUnavailable(f"the inference service's answer to {what} is unreadable")


def _pixels(images: Sequence[Image.Image]) -> bytes:
    """The images as the service's model-ready uint8 ``[N, 224, 224, 3]`` body."""
    return b"".join(model_pixels(image).tobytes() for image in images)


def _error_code(data: bytes) -> str:
    """The service's error code in a refusal's JSON body, if it has one."""
    try:
        answer: Any = json.loads(data)
        return str(answer["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""
