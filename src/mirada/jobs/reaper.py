"""The periodic check for lost jobs: a daemon thread that reaps every ``interval_s``.

It holds its ``reap`` weakly, so that it ends with the worker (and the app) it reaps for.
A process started by ``fork`` has no thread: ``start`` there starts a new one.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)


class Reaper:
    """Calls ``reap()`` every ``interval_s`` seconds until stopped or ``reap`` is gone."""

    def __init__(self, reap: Callable[[], int], *, interval_s: float) -> None:
        self._reap = weakref.WeakMethod(reap)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self) -> None:
        """Start the thread (again after a fork); a running one is left as it is."""
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._stop.clear()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._loop, name="mirada-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread after its current round."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            reap = self._reap()
            if reap is None:
                return
            try:
                lost = reap()
            except Exception:
                log.exception("Reaping lost jobs failed")
            else:
                if lost:
                    log.warning("%s lost jobs marked failed", lost)
            del reap
