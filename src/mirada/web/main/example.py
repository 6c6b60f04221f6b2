"""The start page's example: a real photo and what the ImageNet model said about it.

The photo is scikit-image's ``chelsea`` (a cat), shrunk to 451 by 300 pixels and saved as WebP in
``static/img/chelsea.webp``. The predictions are the model's answer for that very file;
``tests/integration/test_start_page.py`` classifies it again and checks them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

EXAMPLE_IMAGE = "img/chelsea.webp"
EXAMPLE_SIZE = (451, 300)


@dataclass(frozen=True)
class ExamplePrediction:
    """One line of the example's answer: the ImageNet class, its name for people, the score."""

    imagenet_label: str
    label: LazyString
    score: float


EXAMPLE_PREDICTIONS = (
    ExamplePrediction("Egyptian cat", _l("Egyptian cat"), 0.424),
    ExamplePrediction("tiger cat", _l("tiger cat"), 0.300),
    ExamplePrediction("tabby", _l("tabby cat"), 0.204),
)
