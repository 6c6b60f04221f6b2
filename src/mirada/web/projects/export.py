"""What an exported version is called and what its README says, in the user's language."""

from __future__ import annotations

import re
import textwrap
import unicodedata

from flask_babel import gettext as _

from mirada.db import ModelVersion, Project

# Characters that file systems or the Content-Disposition header do not take in a name.
UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')
MAX_STEM = 60


def download_names(project: Project, number: int) -> tuple[str, str]:
    """The bundle's file name in plain ASCII letters (for old clients) and as the user wrote it."""
    suffix = f"-v{number}.zip"
    real = " ".join(UNSAFE_IN_NAMES.sub(" ", project.name).split())[:MAX_STEM].strip()
    plain = unicodedata.normalize("NFKD", real).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9_-]+", "-", plain).strip("-_")[:MAX_STEM] or "project"
    return ascii_stem + suffix, (real or ascii_stem) + suffix


def readme_intro(project: Project, version: ModelVersion) -> str:
    """The README's prose: what the model takes and returns, before the runnable example."""
    paragraphs = [
        _(
            "%(name)s, version %(version)d: an image classifier for the classes listed in "
            "model.json.",
            name=project.name,
            version=version.number,
        ),
        _(
            'model.onnx takes a batch of RGB images, input "image" of shape [N, 3, 224, 224], '
            'float32, and returns "probabilities" of shape [N, %(count)d], one column per class '
            'in the order of "classes" in model.json. Preprocess images exactly as below: centre '
            "crop 224/256 of the short side, bicubic resize to 224 x 224, (rgb - 127) / 128, NCHW.",
            count=len(version.class_names),
        ),
        _("Run it in Python (pip install onnxruntime pillow numpy):"),
    ]
    return "\n\n".join(textwrap.fill(p, width=88, break_on_hyphens=False) for p in paragraphs)
