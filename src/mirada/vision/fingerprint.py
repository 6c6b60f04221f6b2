"""The version of a model file: what a trained head and a stored embedding are tagged with,
so that neither is ever read against another backbone's numbers."""

from __future__ import annotations

import hashlib
from pathlib import Path


def model_fingerprint(path: Path) -> str:
    """A short digest of the model file: the backbone version recorded with each result."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]
