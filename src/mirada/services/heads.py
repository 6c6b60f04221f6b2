"""Trained heads, read from the blob store once and kept (versions never change)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from mirada.db import ModelVersion
from mirada.storage import BlobStore
from mirada.vision.heads import Head

CACHE_SIZE = 32

_cache: OrderedDict[str, Head] = OrderedDict()
_lock = threading.Lock()


def load_head(*, version: ModelVersion, blobs: BlobStore) -> Head:
    """The head of ``version``; the most recently used ones stay in memory."""
    with _lock:
        head = _cache.get(version.head_key)
        if head is not None:
            _cache.move_to_end(version.head_key)
            return head
    head = Head.from_bytes(blobs.get(version.head_key))
    with _lock:
        _cache[version.head_key] = head
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return head
