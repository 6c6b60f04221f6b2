"""How many uploads one user may have in progress in one server process at a time.

An upload holds a request thread while its photos are read, decoded and stored; a user who
sends many at once (a zip of thousands of tiny photos, eight times over) would otherwise take
every thread, health checks included. Past a user's share the answer is 429, Retry-After.
"""

from __future__ import annotations

import threading
from collections import Counter

from flask import g, request

from mirada.services.errors import TooManyAttempts
from mirada.web.body_limits import ARCHIVE_ENDPOINTS, PHOTOS_ENDPOINTS

# Per endpoint, what one user may run at once in one process: the page sends photos three
# at a time and a zip import is one long request; each share leaves room for a request whose
# answer has reached the page a moment before its slot is given back.
SHARES = {
    **dict.fromkeys(PHOTOS_ENDPOINTS | {"classify.classify"}, 6),
    **dict.fromkeys(ARCHIVE_ENDPOINTS, 2),
}
RETRY_AFTER_S = 5

_lock = threading.Lock()
_running: Counter[tuple[int, str]] = Counter()


def take_upload_slot() -> None:
    """Before a request: hold one of the user's slots for its endpoint, or refuse (429)."""
    share = SHARES.get(request.endpoint or "")
    user = g.get("user")
    if share is None or user is None:
        return
    key = (user.id, request.endpoint or "")
    with _lock:
        if _running[key] >= share:
            raise TooManyAttempts("uploads_in_progress", retry_after_s=RETRY_AFTER_S)
        _running[key] += 1
    g.upload_slot = key


def give_upload_slot_back(_error: BaseException | None = None) -> None:
    """After a request, whatever its outcome: free its slot."""
    key = g.pop("upload_slot", None)
    if key is None:
        return
    with _lock:
        _running[key] -= 1
        if _running[key] <= 0:
            del _running[key]
