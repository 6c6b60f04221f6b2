"""The exported bundle's file names: plain ASCII for old clients, the real name through RFC 6266."""

from __future__ import annotations

import pytest
from werkzeug.http import parse_options_header

from mirada.db import Project
from mirada.web.media import attachment_header
from mirada.web.projects.export import download_names


@pytest.mark.parametrize(
    ("name", "plain", "real"),
    [
        ("Digits", "Digits-v1.zip", "Digits-v1.zip"),
        ("Dígitos a mano", "Digitos-a-mano-v1.zip", "Dígitos a mano-v1.zip"),
        ("数字", "project-v1.zip", "数字-v1.zip"),
        ('a/b\\c:"d"; e', "a-b-c-d-e-v1.zip", "a b c d e-v1.zip"),
        ("Ñandú\r\nx", "Nandu-x-v1.zip", "Ñandú x-v1.zip"),
    ],
)
def test_download_names(name: str, plain: str, real: str) -> None:
    assert download_names(Project(name=name), 1) == (plain, real)


def test_the_header_carries_both_names_and_a_parser_reads_the_real_one() -> None:
    header = attachment_header(*download_names(Project(name="Dígitos a mano"), 1))

    assert header == (
        'attachment; filename="Digitos-a-mano-v1.zip"; '
        "filename*=UTF-8''D%C3%ADgitos%20a%20mano-v1.zip"
    )
    assert parse_options_header(header) == ("attachment", {"filename": "Dígitos a mano-v1.zip"})
    assert attachment_header("Digits-v2.zip", "Digits-v2.zip") == (
        'attachment; filename="Digits-v2.zip"'
    )
