"""Work a request hands to a background thread, so that its answer waits for none of it.

Used where the time of an answer must not tell what the work found: whether an address
has an account decides if a reset link is written and mailed, but the request returns
before that is looked up. The work runs in the app's context and the request's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask_babel import force_locale, get_locale

log = logging.getLogger(__name__)


class Later:
    """One background thread per app process, running work in the order it was handed over."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirada-later")

    def submit(self, work: Callable[[], None]) -> None:
        """Run ``work`` soon, in the app's context and the current request's language."""
        self._pool.submit(self._run, work, str(get_locale() or "en"))

    def flush(self, timeout_s: float = 60.0) -> None:
        """Wait until the work handed over so far has finished (for shutdown and tests)."""
        self._pool.submit(lambda: None).result(timeout=timeout_s)

    def _run(self, work: Callable[[], None], locale: str) -> None:
        with self._app.app_context(), force_locale(locale):
            try:
                work()
            except Exception:
                log.exception("Background work failed")
