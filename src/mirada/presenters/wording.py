"""How a presenter words a code: a lazy message with ``%(name)s`` fields, or a function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import LazyString

Wording = LazyString | Callable[[Mapping[str, Any]], str]


def say(wording: Wording, params: Mapping[str, Any]) -> str:
    """``wording`` in the reader's language, its fields filled from ``params``."""
    if isinstance(wording, LazyString):
        text = str(wording)
        return text % params if params else text
    return wording(params)
