"""The prediction caches: an LRU in the process, and the real Redis on 127.0.0.1:6379.

Each Redis test writes under a prefix of its own and deletes its keys afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import redis

from mirada.config import ModelSettings
from mirada.inference.cache import MAX_VALUE_BYTES, LruCache, RedisCache, cache_from, cache_key
from tests.support.server import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted at the end."""
    prefix = f"mirada:test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_the_key_tells_bytes_model_and_question_apart() -> None:
    key = cache_key(b"photo", version="abc", kind="predict:5")
    assert key == cache_key(b"photo", version="abc", kind="predict:5")
    assert key != cache_key(b"photo!", version="abc", kind="predict:5")
    assert key != cache_key(b"photo", version="abd", kind="predict:5")
    assert key != cache_key(b"photo", version="abc", kind="predict:6")


def test_lru_keeps_the_most_recently_used() -> None:
    cache = LruCache(2)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"  # b is now the least recently used
    cache.put("c", b"3")
    assert cache.get("b") is None
    assert cache.get("a") == b"1"
    assert cache.get("c") == b"3"
    assert len(cache) == 2
    assert (cache.hits, cache.misses) == (3, 1)


def test_lru_of_size_zero_keeps_nothing() -> None:
    cache = LruCache(0)
    cache.put("a", b"1")
    assert cache.get("a") is None
    assert cache.misses == 1


def test_lru_from_many_threads_stays_bounded() -> None:
    cache = LruCache(50)

    def fill(start: int) -> None:
        for i in range(start, start + 500):
            cache.put(str(i), b"x")
            cache.get(str(i - 3))

    threads = [threading.Thread(target=fill, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50
    assert cache.hits + cache.misses == 2000


def test_redis_keeps_answers_with_a_ttl(prefix: str) -> None:
    cache = RedisCache(REDIS_URL, ttl_s=60, prefix=prefix)
    assert cache.get("k") is None
    cache.put("k", b"\x00answer")
    assert cache.get("k") == b"\x00answer"
    assert (cache.hits, cache.misses) == (1, 1)
    ttl = redis.Redis.from_url(REDIS_URL).ttl(prefix + "k")
    assert 0 < ttl <= 60


def test_redis_is_shared_between_caches(prefix: str) -> None:
    RedisCache(REDIS_URL, ttl_s=60, prefix=prefix).put("k", b"shared")
    assert RedisCache(REDIS_URL, ttl_s=60, prefix=prefix).get("k") == b"shared"


def test_a_redis_that_does_not_answer_is_a_miss(prefix: str) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", ttl_s=60, prefix=prefix)
    cache.put("k", b"lost")
    assert cache.get("k") is None
    assert cache.get("k") is None
    assert (cache.hits, cache.misses) == (0, 2)


def test_cache_from_the_settings(prefix: str) -> None:
    assert isinstance(cache_from(ModelSettings(prediction_cache_size=3)), LruCache)
    shared = cache_from(ModelSettings(redis_url=REDIS_URL, prediction_cache_ttl_s=30))
    assert isinstance(shared, RedisCache)
    assert shared.ttl_s == 30


def test_lru_is_bounded_in_bytes_too() -> None:
    cache = LruCache(1000, max_bytes=10_000)
    for n in range(50):
        cache.put(f"k{n}", bytes(1000))
    assert len(cache) == 10  # the newest ten fit
    assert cache.get("k49") is not None and cache.get("k39") is None
    cache.put("huge", bytes(MAX_VALUE_BYTES + 1))  # larger than any answer worth keeping
    assert cache.get("huge") is None and len(cache) == 10
