"""Answers already given: the same bytes through the same model are not run twice.

An in-process LRU by default; Redis when ``MIRADA_REDIS_URL`` is set, shared by every
process and kept ``prediction_cache_ttl_s``. A Redis that does not answer is a miss,
never an error: it is logged once and left alone for a few seconds before the next try.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import redis

from mirada.config import ModelSettings

log = logging.getLogger(__name__)

MAX_VALUE_BYTES = 256 * 1024  # a larger answer (many images, top_k=1000) is not kept
LRU_MAX_BYTES = 64 * 1024 * 1024  # the in-process cache's memory, whatever its entry count
REDIS_TIMEOUT_S = 0.2
REDIS_RETRY_S = 5.0  # after a failure, Redis is not asked again for this long


def cache_key(body: bytes, *, version: str, kind: str) -> str:
    """The key of an answer: the body's digest, the model version and what was asked."""
    return f"{hashlib.sha256(body).hexdigest()}:{version}:{kind}"


class PredictionCache(Protocol):
    """Answers by key; ``hits`` and ``misses`` count the lookups."""

    hits: int
    misses: int

    def get(self, key: str) -> bytes | None:
        """The answer kept under ``key``, or None."""
        ...

    def put(self, key: str, value: bytes) -> None:
        """Keep ``value`` under ``key``."""
        ...


class LruCache:
    """At most ``max_entries`` answers in this process, the least recently used dropped first."""

    def __init__(self, max_entries: int, *, max_bytes: int = LRU_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: bytes) -> None:
        if self.max_entries <= 0 or len(value) > MAX_VALUE_BYTES:
            return
        with self._lock:
            self._bytes += len(value) - len(self._entries.get(key, b""))
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._bytes -= len(self._entries.popitem(last=False)[1])

    def __len__(self) -> int:
        return len(self._entries)


class RedisCache:
    """Answers in Redis under ``prefix``, each kept ``ttl_s`` seconds."""

    def __init__(self, url: str, *, ttl_s: int, prefix: str = "mirada:pred:") -> None:
        self.ttl_s = ttl_s
        self.prefix = prefix
        self.hits = 0
        self.misses = 0
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            health_check_interval=30,
        )
        self._down_until = 0.0
        self._warned = False
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        value = self._call(lambda: self._client.get(self.prefix + key))
        with self._lock:
            if isinstance(value, bytes):
                self.hits += 1
                return value
            self.misses += 1
            return None

    def put(self, key: str, value: bytes) -> None:
        if len(value) > MAX_VALUE_BYTES:
            return
        self._call(lambda: self._client.set(self.prefix + key, value, ex=self.ttl_s))

    def _call(self, command: Callable[[], object]) -> object:
        """Run ``command`` unless Redis failed moments ago; None when it fails now."""
        if time.monotonic() < self._down_until:
            return None
        try:
            return command()
        except (redis.RedisError, OSError) as error:
            self._down_until = time.monotonic() + REDIS_RETRY_S
            if not self._warned:
                self._warned = True
                log.warning("the prediction cache's Redis does not answer (%s): misses", error)
            return None


def cache_from(settings: ModelSettings) -> PredictionCache:
    """Redis when ``redis_url`` is set, else an in-process LRU of ``prediction_cache_size``."""
    if settings.redis_url:
        return RedisCache(settings.redis_url, ttl_s=settings.prediction_cache_ttl_s)
    return LruCache(settings.prediction_cache_size)
