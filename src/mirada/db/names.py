"""The key that makes two names the same whatever their case or Unicode form.

SQL's ``lower()`` knows only ASCII on SQLite, so the application computes the key
(NFKC, then Unicode case folding, then NFKC again, spaces collapsed) and the
database keeps it in a column with a unique index: a race between two requests
cannot leave "Dupe" beside "dUpe".
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, validates

MAX_NAME_LENGTH = 100
MAX_NAME_KEY_LENGTH = 300  # a key may outgrow its name (ß → ss, ligatures); bounded for indexes


def name_key(name: str) -> str:
    """The case- and form-insensitive key of ``name``."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


class KeyedName:
    """A ``name`` column with its ``name_key``, which follows every change of the name."""

    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    name_key: Mapped[str] = mapped_column(String(MAX_NAME_KEY_LENGTH))

    @validates("name")
    def _keep_name_key(self, _attribute: str, name: str) -> str:
        self.name_key = name_key(name)
        return name
