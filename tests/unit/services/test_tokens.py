"""Random secrets stored only as hashes (no app, no database)."""

from __future__ import annotations

import re

from mirada.services.tokens import new_token, token_hash


def test_a_token_is_long_url_safe_and_new_each_time() -> None:
    tokens = {new_token() for _ in range(100)}

    assert len(tokens) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", token) for token in tokens)


def test_a_token_is_stored_as_its_sha256() -> None:
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token_hash("abc") != token_hash("abd")


def test_a_token_with_a_lone_surrogate_still_hashes() -> None:
    """A URL can carry anything; hashing it must not raise (the lookup then finds nothing)."""
    assert re.fullmatch(r"[0-9a-f]{64}", token_hash("\udc80"))
