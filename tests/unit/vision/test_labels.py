"""ImageNet class names."""

from __future__ import annotations

from mirada.vision.labels import imagenet_labels


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
