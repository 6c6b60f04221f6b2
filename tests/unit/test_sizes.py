"""Modules and functions stay small enough to read in one sitting.

No module under ``src/mirada`` is longer than 400 lines, and no function (or method, nested
function, coroutine) longer than 60, counted from its ``def`` line to its last line, docstring
included, decorators not. Alembic's migrations are left aside. A failure lists every
offender, longest first.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src" / "mirada"
ASIDE = (SOURCE / "migrations",)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Span:
    """A named stretch of source and its length in lines."""

    where: str
    lines: int


def sources() -> list[Path]:
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if not any(path.is_relative_to(aside) for aside in ASIDE)
    ]


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def module_lengths() -> list[Span]:
    return [
        Span(_relative(path), len(path.read_text(encoding="utf-8").splitlines()))
        for path in sources()
    ]


def function_lengths(path: Path) -> list[Span]:
    """Every function of ``path``, named by its place (``Class.method.inner``) and line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Span] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                end = child.end_lineno or child.lineno
                where = f"{_relative(path)}:{child.lineno} {name}"
                found.append(Span(where, end - child.lineno + 1))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _refuse(offenders: list[Span], rule: str) -> None:
    """Fail with ``rule`` and every offender, longest first."""
    if offenders:
        ranked = sorted(offenders, key=lambda span: (-span.lines, span.where))
        listed = "\n".join(f"  {span.lines:5d}  {span.where}" for span in ranked)
        pytest.fail(f"{rule} ({len(offenders)} offenders):\n{listed}", pytrace=False)


def test_the_counts_see_the_source() -> None:
    """The checks below can fail: they read every module and every kind of function."""
    modules = {span.where: span.lines for span in module_lengths()}
    assert len(modules) > 100
    assert not any("/migrations/" in where for where in modules)
    functions = [span.where for span in function_lengths(SOURCE / "web" / "server.py")]
    assert any(where.endswith(" BufferingWorker.run") for where in functions)  # a method
    assert any(where.endswith(" BufferingWorker._counted.counted") for where in functions)


def test_no_module_longer_than_400_lines() -> None:
    offenders = [span for span in module_lengths() if span.lines > MAX_MODULE_LINES]
    _refuse(offenders, f"modules longer than {MAX_MODULE_LINES} lines")


def test_no_function_longer_than_60_lines() -> None:
    offenders = [
        span
        for path in sources()
        for span in function_lengths(path)
        if span.lines > MAX_FUNCTION_LINES
    ]
    _refuse(offenders, f"functions longer than {MAX_FUNCTION_LINES} lines (def to last line)")
