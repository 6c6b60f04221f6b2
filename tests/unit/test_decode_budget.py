"""The process-wide budget of decoded pixels: reservations, waits, releases."""

from __future__ import annotations

import threading

import pytest

from mirada.vision.budget import BudgetExhausted, DecodeBudget


def test_acquire_and_release_keep_the_count() -> None:
    budget = DecodeBudget(100)
    budget.acquire(60, timeout=0)
    assert budget.used == 60
    assert budget.try_acquire(40)
    assert not budget.try_acquire(1)
    budget.release(60)
    budget.release(40)
    assert budget.used == 0
    assert budget.peak == 100


def test_a_reservation_that_does_not_fit_is_refused_past_its_deadline() -> None:
    budget = DecodeBudget(100)
    budget.acquire(80, timeout=None)
    with pytest.raises(BudgetExhausted):
        budget.acquire(30, timeout=0.05)
    assert budget.used == 80
    budget.release(80)
    budget.acquire(30, timeout=0.05)  # the refused waiter left no ticket behind
    assert budget.used == 30


def test_never_negative() -> None:
    budget = DecodeBudget(100)
    budget.acquire(10, timeout=0)
    with pytest.raises(ValueError):
        budget.release(11)
    assert budget.used == 10
    with pytest.raises(ValueError):
        budget.acquire(-1, timeout=0)
    with pytest.raises(ValueError):
        DecodeBudget(0)


def test_released_when_the_block_raises() -> None:
    budget = DecodeBudget(100)
    with pytest.raises(RuntimeError), budget.reserved(70, timeout=0):
        assert budget.used == 70
        raise RuntimeError("decoding failed")
    assert budget.used == 0


def test_more_than_the_whole_budget_waits_for_it_empty_then_takes_it_alone() -> None:
    budget = DecodeBudget(100)
    budget.acquire(10, timeout=0)
    with pytest.raises(BudgetExhausted):
        budget.acquire(500, timeout=0.05)
    budget.release(10)
    with budget.reserved(500, timeout=0):
        assert budget.used == 100
        assert not budget.try_acquire(1)
    assert budget.used == 0


def test_a_waiter_gets_the_budget_when_it_is_released() -> None:
    budget = DecodeBudget(100)
    budget.acquire(100, timeout=0)
    got = threading.Event()

    def wait() -> None:
        budget.acquire(50, timeout=30)
        got.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert not got.wait(0.1)
    budget.release(100)
    waiter.join()
    assert got.is_set()
    assert budget.used == 50


def test_waiters_are_served_first_come_first_served() -> None:
    budget = DecodeBudget(100)
    budget.acquire(90, timeout=0)
    order: list[str] = []
    large_waiting = threading.Event()

    def take(name: str, size: int) -> None:
        if name == "large":
            large_waiting.set()
        budget.acquire(size, timeout=30)
        order.append(name)
        budget.release(size)

    large = threading.Thread(target=take, args=("large", 100))
    large.start()
    large_waiting.wait()
    while not budget.waiting:  # the large one has queued
        threading.Event().wait(0.01)
    # A small one would fit now, but the large one came first: no jumping the queue.
    assert not budget.try_acquire(5)
    small = threading.Thread(target=take, args=("small", 5))
    small.start()
    while budget.waiting < 2:
        threading.Event().wait(0.01)
    budget.release(90)
    large.join()
    small.join()
    assert order == ["large", "small"]
    assert budget.peak == 100
