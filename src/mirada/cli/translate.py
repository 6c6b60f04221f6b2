"""``mirada translate``: keep the message catalogs in step with the code (wraps pybabel)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
TRANSLATIONS = WEB_DIR / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
BABEL_CONFIG = WEB_DIR / "babel.cfg"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)


@click.group()
def translate() -> None:
    """Extract, update and compile translations."""


@translate.command()
def extract() -> None:
    """Collect the messages of the code and templates into messages.pot."""
    _pybabel(
        "extract",
        "-F",
        str(BABEL_CONFIG),
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "--project",
        "Mirada",
        "-o",
        str(TEMPLATE),
        str(WEB_DIR.parent),
    )


@translate.command()
def update() -> None:
    """Extract, then merge new messages into every language's catalog."""
    extract.callback()  # type: ignore[misc]
    _pybabel("update", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "--no-fuzzy-matching")


@translate.command()
@click.argument("locale")
def init(locale: str) -> None:
    """Start a catalog for a new LOCALE."""
    _pybabel("init", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "-l", locale)


@translate.command()
def compile() -> None:
    """Compile the catalogs into the .mo files the app reads."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
