"""The Spanish catalog: complete for the current code, placeholders intact, and used by the app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

import mirada

PACKAGE_DIR = Path(mirada.__file__).resolve().parent
WEB_DIR = PACKAGE_DIR / "web"
BABEL_CONFIG = WEB_DIR / "babel.cfg"
CATALOG_DIR = WEB_DIR / "translations" / "es" / "LC_MESSAGES"
PO_FILE = CATALOG_DIR / "messages.po"
MO_FILE = CATALOG_DIR / "messages.mo"

# %(name)s, %(n)d, %(mb)g, ... ; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?(?P<type>[a-zA-Z%])"
)


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def placeholders(text: str) -> set[str]:
    """The placeholders of a python-format string, with their conversion: {"%(n)d", ...}."""
    return {
        f"%({match['name']}){match['type']}"
        for match in PLACEHOLDER.finditer(text)
        if match["type"] != "%"
    }


def formats(text: str) -> str | None:
    """None when ``text % {its placeholders}`` works, as Flask-Babel will do; else the error."""
    values = {match["name"]: 1 for match in PLACEHOLDER.finditer(text) if match["name"]}
    try:
        text % values
    except (KeyError, TypeError, ValueError) as error:
        return str(error) or type(error).__name__
    return None


def key(message: Message) -> str:
    """How a message is named in a failure: its msgid, and its plural if it has one."""
    if isinstance(message.id, tuple | list):
        return " | ".join(message.id)
    return str(message.id)


def forms(message: Message) -> list[tuple[str, str]]:
    """(English, Spanish) pairs: one for a plain message, one per plural form otherwise."""
    if isinstance(message.id, tuple | list):
        singular, plural = message.id[0], message.id[1]
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        return [(singular if i == 0 else plural, text or "") for i, text in enumerate(strings)]
    return [(str(message.id), str(message.string or ""))]


def real_messages(catalog: Iterable[Message]) -> list[Message]:
    return [message for message in catalog if message.id]


@pytest.fixture(scope="module")
def source_template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of the current code and templates, extracted as `mirada translate` does.

    Babel's default keywords (_, gettext, ngettext, lazy_gettext, ...) stay on; ``-k _l`` adds
    the lazy alias the code uses.
    """
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    result = subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "--quiet", "extract",
            "-F", str(BABEL_CONFIG), "-k", "_l",
            "--no-location", "--sort-output", "--project", "Mirada",
            "-o", str(pot), str(PACKAGE_DIR),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stderr}"
    return read_catalog(pot)


@pytest.fixture(scope="module")
def spanish() -> Catalog:
    return read_catalog(PO_FILE, locale="es")


@pytest.fixture(scope="module")
def compiled_catalog() -> Path:
    """The .mo the app reads, compiled from the .po when missing or older than it."""
    if not MO_FILE.exists() or MO_FILE.stat().st_mtime < PO_FILE.stat().st_mtime:
        catalog = read_catalog(PO_FILE, locale="es")
        partial = MO_FILE.with_name(f"{MO_FILE.name}.{os.getpid()}.tmp")
        with partial.open("wb") as file:
            write_mo(file, catalog)
        partial.replace(MO_FILE)
    return MO_FILE


def test_the_source_has_messages_to_translate(source_template: Catalog) -> None:
    ids = {key(message) for message in real_messages(source_template)}
    assert len(ids) > 50, "extraction found almost nothing: is babel.cfg still right?"
    assert "Create account" in ids
    assert "%(num)d user | %(num)d users" in ids


def test_every_message_of_the_source_is_translated(
    source_template: Catalog, spanish: Catalog
) -> None:
    missing, fuzzy = [], []
    for message in real_messages(source_template):
        translation = spanish.get(message.id, message.context)
        if (
            translation is None
            or key(translation) != key(message)  # only the English plural changed
            or not all(text for _, text in forms(translation))
        ):
            missing.append(key(message))
        elif translation.fuzzy:
            fuzzy.append(key(message))
    problems = [f"  missing: {text!r}" for text in missing] + [
        f"  fuzzy:   {text!r}" for text in fuzzy
    ]
    assert not problems, (
        f"{len(problems)} message(s) lack a finished Spanish translation in {PO_FILE}; "
        "run `mirada translate update` and translate them:\n" + "\n".join(problems)
    )


def test_the_spanish_catalog_has_spanish_plural_rules(spanish: Catalog) -> None:
    assert spanish.num_plurals == 2
    assert spanish.plural_expr == "(n != 1)"
    wrong = [
        key(message)
        for message in real_messages(spanish)
        if message.pluralizable and len(forms(message)) != spanish.num_plurals
    ]
    assert not wrong, f"plural messages without exactly 2 forms: {wrong}"


def test_translations_keep_the_placeholders(spanish: Catalog) -> None:
    broken = []
    for message in real_messages(spanish):
        for english, text in forms(message):
            if not text:
                continue
            if placeholders(text) != placeholders(english):
                broken.append(
                    f"  {key(message)!r}: expected {sorted(placeholders(english))}, "
                    f"got {sorted(placeholders(text))} in {text!r}"
                )
                continue
            if message.python_format and formats(english) is None:
                error = formats(text)
                if error is not None:
                    broken.append(f"  {key(message)!r}: {text!r} cannot be formatted ({error})")
    assert not broken, "Spanish translations with wrong placeholders:\n" + "\n".join(broken)


def test_pages_are_served_in_spanish_when_asked(
    compiled_catalog: Path, client: FlaskClient
) -> None:
    page = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Crear cuenta" in page
    assert "Iniciar sesión" in page
    assert "Create account" not in page


def test_pages_stay_in_english_when_asked(compiled_catalog: Path, client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Create account" in page
    assert "Sign in" in page
    assert "Crear cuenta" not in page
