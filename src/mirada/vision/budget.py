"""How many bytes of decoded pixels one process may hold at once, shared by its threads.

Requests and background jobs reserve an image's decoding cost (``intake.Header.cost``)
before decoding it and release it when they are done with the pixels. Waiters are
served in the order they came, so a large image is not starved by a stream of small
ones; a reservation larger than the whole budget waits until the budget is empty and
then takes all of it, alone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExhausted(Exception):
    """The budget did not free up within the wait."""


class DecodeBudget:
    """A counting semaphore in bytes, fair (first come, first served)."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("a decode budget needs a positive capacity")
        self.capacity = capacity
        self._used = 0
        self._peak = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @property
    def used(self) -> int:
        """Bytes reserved now."""
        return self._used

    @property
    def waiting(self) -> int:
        """How many reservations wait now."""
        return len(self._waiting)

    @property
    def peak(self) -> int:
        """The most bytes ever reserved at once."""
        return self._peak

    def _share(self, size: int) -> int:
        if size < 0:
            raise ValueError("cannot reserve a negative size")
        return min(size, self.capacity)

    def _take(self, share: int) -> None:
        self._used += share
        self._peak = max(self._peak, self._used)

    def try_acquire(self, size: int) -> bool:
        """Reserve ``size`` bytes if they are free now and nobody waits before us."""
        share = self._share(size)
        with self._changed:
            if self._waiting or self._used + share > self.capacity:
                return False
            self._take(share)
            return True

    def acquire(self, size: int, *, timeout: float | None) -> None:
        """Reserve ``size`` bytes, waiting at most ``timeout`` seconds (None: for ever).

        Raises ``BudgetExhausted`` when the wait ends first.
        """
        share = self._share(size)
        deadline = None if timeout is None else time.monotonic() + timeout
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or self._used + share > self.capacity:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise BudgetExhausted(f"{size} bytes of decoding budget not free in time")
                    self._changed.wait(left)
                self._take(share)
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()

    def release(self, size: int) -> None:
        """Give back ``size`` bytes reserved earlier."""
        share = self._share(size)
        with self._changed:
            if share > self._used:
                raise ValueError("released more decoding budget than was reserved")
            self._used -= share
            self._changed.notify_all()

    @contextmanager
    def reserved(self, size: int, *, timeout: float | None) -> Iterator[None]:
        """Hold ``size`` bytes for the block; released however the block ends."""
        self.acquire(size, timeout=timeout)
        try:
            yield
        finally:
            self.release(size)
