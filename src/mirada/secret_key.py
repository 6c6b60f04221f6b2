"""The key that signs cookies: how strong a given one is, and a random one kept on disk.

A key's strength is estimated with zxcvbn, which prices repeats, sequences, keyboard
walks and dictionary words at what they cost an attacker, and random runs at ten
guesses a character (so a 64-character hex key scores about 210 bits, 32 ``a`` about 9).
"""

from __future__ import annotations

import math
import os
import secrets
from pathlib import Path

MIN_KEY_BITS = 128
ANALYSED_CHARACTERS = 128  # zxcvbn's cost grows quickly with the length; a prefix tells enough
KEY_FILE_NAME = "secret_key"


def estimated_bits(key: str) -> float:
    """About how many bits of guessing ``key`` takes (0 for an empty key)."""
    if not key:
        return 0.0
    from zxcvbn import zxcvbn

    guesses_log10 = float(zxcvbn(key[:ANALYSED_CHARACTERS])["guesses_log10"])
    return guesses_log10 * math.log2(10)


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` is too weak to sign cookies in production, or None when it is strong."""
    if not key:
        return "must be set"
    bits = estimated_bits(key)
    if bits < MIN_KEY_BITS:
        return (
            f"is guessable (about {bits:.0f} bits estimated, at least {MIN_KEY_BITS} needed: "
            "use a long random value, not words, repeats or sequences)"
        )
    return None


def load_or_create(data_dir: Path) -> str:
    """The random key kept in ``data_dir`` (mode 0600), made on the first run."""
    path = data_dir / KEY_FILE_NAME
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    draft = data_dir / f".{KEY_FILE_NAME}.{secrets.token_hex(8)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)  # appears whole, or not at all if another worker won
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="ascii").strip()
