"""Every refusal raised anywhere in Mirada has its words in a presenter, and gets the
parameters its words need.

The doors raise and the services raise; neither words a refusal. A code without words in
``presenters.refusals.REFUSALS`` would fail only when a person meets it, so this test
reads the source for each ``ServiceError(...)`` (and its subclasses) instead.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_babel import LazyString

import mirada
from mirada.presenters.refusals import REFUSALS

SOURCE = Path(mirada.__file__).parent
ERRORS = {
    "ServiceError",
    "NotFound",
    "Conflict",
    "RetryLater",
    "TooManyAttempts",
    "Busy",
    "ImageRefused",
    "QuotaExceeded",
}
FIELD = re.compile(r"%\((\w+)\)")


@dataclass(frozen=True)
class Raised:
    """One refusal built in the source: where, its code, the names of its parameters."""

    where: str
    code: str
    params: frozenset[str]
    positional: int


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def raised() -> list[Raised]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and _name(node) in ERRORS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append(
                    Raised(
                        where=f"{path.relative_to(SOURCE)}:{node.lineno}",
                        code=node.args[0].value,
                        params=frozenset(k.arg for k in node.keywords if k.arg),
                        positional=len(node.args),
                    )
                )
    return found


RAISED = raised()


def test_the_source_raises_refusals() -> None:
    assert len(RAISED) > 50  # the scan itself works


@pytest.mark.parametrize("refusal", RAISED, ids=lambda r: f"{r.where}:{r.code}")
def test_each_refusal_is_worded_and_given_what_its_words_need(refusal: Raised) -> None:
    assert refusal.positional == 1, "a refusal carries a code and parameters, never words"
    assert refusal.code in REFUSALS, f"{refusal.code} has no words in mirada.presenters"
    wording = REFUSALS[refusal.code]
    if isinstance(wording, LazyString):
        needed = set(FIELD.findall(wording._args[0]))
        assert needed <= refusal.params, f"{refusal.code} needs {sorted(needed)}"
