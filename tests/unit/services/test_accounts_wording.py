"""Every refusal the account services raise has its words in presenters/accounts.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mirada.services
from mirada.presenters import accounts as wording
from mirada.presenters.refusals import REFUSALS

ERRORS = {"ServiceError", "NotFound", "Conflict", "TooManyAttempts", "RetryLater", "Busy"}
MODULES = [
    "accounts",
    "admin",
    "passwords",
    "password_reset",
    "sessions",
    "signups",
    "throttle",
    "timezones",
]


def raised_codes(module: str) -> set[str]:
    """The code of every error constructed in ``module`` (its first argument)."""
    path = Path(mirada.services.__file__).parent / f"{module}.py"
    codes: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ERRORS
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            assert len(node.args) == 1, f"{module}: words passed to {node.func.id}"
            codes.add(node.args[0].value)
    return codes


@pytest.mark.parametrize("module", MODULES)
def test_every_code_is_worded_once(module: str) -> None:
    codes = raised_codes(module)

    assert codes <= wording.REFUSALS.keys(), sorted(codes - wording.REFUSALS.keys())
    assert all(REFUSALS[code] is wording.REFUSALS[code] for code in codes)


def test_the_accounts_raise_codes_at_all() -> None:
    assert {"bad_credentials", "email_taken", "too_many_attempts"} <= raised_codes("accounts")
