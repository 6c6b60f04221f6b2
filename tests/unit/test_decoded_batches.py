"""Decoding in batches bounded by count and by decoded pixels."""

from __future__ import annotations

from PIL import Image

from mirada.services.images import decoded_batches


def sizes(batches: list[list[tuple[int, Image.Image]]]) -> list[list[int]]:
    return [[item for item, _ in batch] for batch in batches]


def test_batches_hold_at_most_max_count_images() -> None:
    batches = list(decoded_batches(range(7), lambda i: Image.new("RGB", (4, 4)), max_count=3))
    assert sizes(batches) == [[0, 1, 2], [3, 4, 5], [6]]


def test_batches_hold_at_most_max_pixels_and_a_large_image_goes_alone() -> None:
    widths = {0: 10, 1: 10, 2: 100, 3: 10}
    batches = list(
        decoded_batches(
            range(4), lambda i: Image.new("L", (widths[i], 10)), max_count=16, max_pixels=250
        )
    )
    assert sizes(batches) == [[0, 1], [2], [3]]


def test_items_that_decode_to_none_are_left_out() -> None:
    batches = list(
        decoded_batches(range(5), lambda i: None if i % 2 else Image.new("L", (2, 2)), max_count=16)
    )
    assert sizes(batches) == [[0, 2, 4]]
