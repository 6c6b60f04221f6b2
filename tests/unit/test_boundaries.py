"""The import boundaries between Mirada's layers, read from the source with ``ast``.

Every import counts, wherever it stands: at the top of a module, inside a function (a deferred
import), in a class body, under ``if TYPE_CHECKING:`` or in a ``try``. An import names the
module it loads: ``from mirada.web import formatting`` loads ``mirada.web.formatting``,
``from mirada.db import User`` loads the package ``mirada.db``; relative imports are resolved.
Each failure lists every offending import as ``module:line imports target``.

- ``vision/`` is pure ML: no flask (nor any flask_* package), werkzeug, sqlalchemy or torch,
  and no mirada module outside ``vision/``; ``vision/export.py`` alone may import torch (the
  build-time export of the backbone, imported inside its functions). A fresh interpreter that
  imports every vision module holds none of them either.
- ``services/`` import neither flask (nor any flask_* package), werkzeug, ``mirada.runtime``,
  nor the Flask-SQLAlchemy object ``db`` of ``mirada.db`` (they import the models, and take
  the session as an argument).
- ``presenters/`` (shared by the pages, the CLI and the API) import neither sqlalchemy nor
  ``mirada.db``.
- No two mirada modules import each other.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "mirada"
GENERATED = ("mirada.migrations.versions",)  # Alembic's revision files

VISION_FORBIDDEN = ("flask", "werkzeug", "sqlalchemy", "torch")
VISION_BUILD_TIME = {"mirada.vision.export": ("torch",)}
SERVICES_FORBIDDEN = ("flask", "werkzeug", "mirada.runtime", "mirada.db.app_session")
PRESENTERS_FORBIDDEN = ("sqlalchemy", "mirada.db")


@dataclass(frozen=True)
class Import:
    """One import statement's target, as seen from ``module`` at ``line``."""

    module: str
    line: int
    target: str
    names: tuple[str, ...] = ()  # what ``from target import ...`` takes

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.module}:{self.line} imports {self.target}{taken}"


def module_name(path: Path) -> str:
    parts = ("mirada", *path.relative_to(SOURCE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every mirada module (Alembic's generated revisions aside) by its dotted name."""
    found = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}
    return {name: path for name, path in found.items() if not name.startswith(GENERATED)}


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    is_package = modules()[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports_of(module: str) -> Iterator[Import]:
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"), filename=module)
    known = modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            submodules = [a.name for a in node.names if f"{source}.{a.name}" in known]
            for name in submodules:
                yield Import(module, node.lineno, f"{source}.{name}")
            others = tuple(a.name for a in node.names if a.name not in submodules)
            if others or not submodules:
                yield Import(module, node.lineno, source, others)


@cache
def imports() -> tuple[Import, ...]:
    """Every import of every mirada module."""
    return tuple(found for module in modules() for found in _imports_of(module))


def _is_within(target: str, package: str) -> bool:
    """Whether ``target`` is ``package`` or inside it (``flask`` covers flask_babel too)."""
    if package in ("flask",):
        return target.split(".")[0] == "flask" or target.startswith("flask_")
    return target == package or target.startswith(package + ".")


def _from(package: str) -> list[Import]:
    return [i for i in imports() if _is_within(i.module, package)]


def _refuse(offenders: list[Import], rule: str) -> None:
    """Fail with ``rule`` and every offender, one a line (no traceback to read past)."""
    if offenders:
        listed = "\n".join(f"  {offender}" for offender in offenders)
        pytest.fail(f"{rule} ({len(offenders)} imports):\n{listed}", pytrace=False)


def test_the_parser_sees_every_kind_of_import() -> None:
    """The checks below can fail: deferred, relative and aliased imports are all found."""
    seen = {(i.module, i.target) for i in imports()}
    assert ("mirada.vision.export", "torch") in seen  # inside a function
    assert ("mirada.web", "mirada.db.app_session") in seen  # from mirada.db.app_session import db
    assert ("mirada.web", "mirada.web.formatting") in seen  # a submodule taken by name
    assert any(i.module == "mirada.cli" and i.target == "mirada.web" for i in imports())
    assert len(modules()) > 100


def test_vision_imports_no_web_database_or_torch() -> None:
    offenders = [
        i
        for i in _from("mirada.vision")
        if any(_is_within(i.target, name) for name in VISION_FORBIDDEN)
        and not any(_is_within(i.target, n) for n in VISION_BUILD_TIME.get(i.module, ()))
    ]
    _refuse(offenders, "vision/ imports no flask, werkzeug, sqlalchemy or torch (export: torch)")


def test_vision_imports_nothing_of_mirada_outside_vision() -> None:
    offenders = [
        i
        for i in _from("mirada.vision")
        if _is_within(i.target, "mirada") and not _is_within(i.target, "mirada.vision")
    ]
    _refuse(offenders, "vision/ imports nothing of mirada outside vision/")


def test_vision_modules_load_no_web_database_or_torch() -> None:
    """What the source checks cannot see: what importing every vision module loads."""
    vision = [name for name in modules() if _is_within(name, "mirada.vision")]
    assert "mirada.vision.custom" in vision
    code = (
        "import importlib, json, sys\n"
        f"for name in {vision!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert [m for m in loaded if any(_is_within(m, n) for n in VISION_FORBIDDEN)] == []


def test_services_import_no_flask_werkzeug_or_runtime() -> None:
    offenders = [
        i
        for i in _from("mirada.services")
        if any(_is_within(i.target, name) for name in SERVICES_FORBIDDEN)
    ]
    _refuse(
        offenders,
        "services/ take the session and the adapters as arguments: they import no flask*, "
        "werkzeug, mirada.runtime nor the app's bound db (mirada.db.app_session)",
    )


def test_services_load_no_flask() -> None:
    """What the source checks cannot see: importing every service loads no Flask at all
    (not even through the models)."""
    services = [name for name in modules() if _is_within(name, "mirada.services")]
    code = (
        "import importlib, json, sys\n"
        f"for name in {services!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    forbidden = ("flask", "flask_sqlalchemy", "flask_babel", "werkzeug", "mirada.runtime")
    assert [m for m in loaded if any(_is_within(m, n) for n in forbidden)] == []


def _types_or_errors(i: Import) -> bool:
    """An import of SQLAlchemy's Session type or of its errors: no way to query."""
    return i.target == "sqlalchemy.exc" or (set(i.names) <= {"Session", "exc"} and bool(i.names))


def test_cli_commands_reach_the_database_only_through_services() -> None:
    offenders = [
        i
        for i in _from("mirada.cli")
        if i.module != "mirada.cli.transactions"
        and (
            (_is_within(i.target, "sqlalchemy") and not _types_or_errors(i))
            or _is_within(i.target, "mirada.db.app_session")
        )
    ]
    _refuse(
        offenders,
        "cli/ commands call the services with the session of cli/transactions.py; they "
        "import neither sqlalchemy (but its Session type and errors) nor the app's bound db",
    )


def test_presenters_import_no_database() -> None:
    offenders = [
        i
        for i in _from("mirada.presenters")
        if any(_is_within(i.target, name) for name in PRESENTERS_FORBIDDEN)
    ]
    _refuse(offenders, "presenters/ word what they are given: no sqlalchemy, no mirada.db")


def mutual_imports() -> list[tuple[Import, Import]]:
    """Each pair of mirada modules that import each other, with one import each way."""
    first: dict[tuple[str, str], Import] = {}
    for found in imports():
        if found.target in modules() and found.target != found.module:
            first.setdefault((found.module, found.target), found)
    return [
        (there, first[(b, a)])
        for (a, b), there in sorted(first.items())
        if a < b and (b, a) in first
    ]


def test_no_two_modules_import_each_other() -> None:
    pairs = mutual_imports()
    if pairs:
        listed = "\n".join(f"  {there}\n    and {back}" for there, back in pairs)
        pytest.fail(f"{len(pairs)} pairs of modules import each other:\n{listed}", pytrace=False)
