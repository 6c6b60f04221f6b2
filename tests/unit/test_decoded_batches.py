"""Decoding in batches bounded by count and by the process's decode budget."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mirada.services.images import decoded_batches
from mirada.vision.budget import BudgetExhausted, DecodeBudget
from mirada.vision.intake import Header, decode, read_header

LIMITS = {"max_bytes": 10**7, "max_pixels": 10**7}


def png(width: int, height: int = 10) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 100).save(buffer, "PNG")
    return buffer.getvalue()


def read(data: bytes) -> Header:
    return read_header(data, **LIMITS)


def undecoded(_item: object, header: Header) -> Image.Image:
    return decode(header)


def positions(batches: list[list[tuple[int, Image.Image]]]) -> list[list[int]]:
    return [[item for item, _ in batch] for batch in batches]


def batches_of(files: list[bytes], budget: DecodeBudget, **kwargs: object) -> list[list[int]]:
    seen: list[list[int]] = []
    for batch in decoded_batches(
        range(len(files)),
        lambda i: read(files[i]),
        lambda i, header: decode(header),
        budget=budget,
        timeout=kwargs.pop("timeout", 0),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    ):
        held = sum(read(files[i]).cost for i, _ in batch)
        assert budget.used == min(held, budget.capacity)  # one image over the budget takes it all
        seen.append([i for i, _ in batch])
    assert budget.used == 0
    return seen


def test_batches_hold_at_most_max_count_images() -> None:
    files = [png(4, 4)] * 7
    assert batches_of(files, DecodeBudget(10**9), max_count=3) == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_batch_ends_where_the_budget_ends_and_a_large_image_goes_alone() -> None:
    files = [png(10), png(10), png(100), png(10)]
    small, large = read(files[0]).cost, read(files[2]).cost
    budget = DecodeBudget(2 * small + small // 2)
    assert large > budget.capacity
    assert batches_of(files, budget, max_count=16) == [[0, 1], [2], [3]]
    assert budget.peak <= budget.capacity


def test_items_that_read_or_decode_to_none_are_left_out_and_release_their_share() -> None:
    files = [png(2, 2)] * 5
    budget = DecodeBudget(10**9)
    batches = list(
        decoded_batches(
            range(5),
            lambda i: None if i == 1 else read(files[i]),
            lambda i, header: None if i == 3 else decode(header),
            max_count=16,
            budget=budget,
            timeout=0,
        )
    )
    assert positions(batches) == [[]]  # emptied once the caller moved on
    assert budget.used == 0


def test_the_wait_for_budget_ends_with_budget_exhausted_and_nothing_held() -> None:
    files = [png(10)] * 3
    budget = DecodeBudget(10**6)
    budget.acquire(10**6, timeout=0)  # someone else holds it all
    with pytest.raises(BudgetExhausted):
        list(
            decoded_batches(
                range(3),
                lambda i: read(files[i]),
                undecoded,
                max_count=16,
                budget=budget,
                timeout=0.05,
            )
        )
    assert budget.used == 10**6


def test_a_caller_that_stops_early_releases_what_the_batch_held() -> None:
    files = [png(10)] * 3
    budget = DecodeBudget(10**9)
    batches = decoded_batches(
        range(3), lambda i: read(files[i]), undecoded, max_count=2, budget=budget, timeout=0
    )
    first = next(batches)
    assert len(first) == 2 and budget.used > 0
    batches.close()
    assert budget.used == 0
