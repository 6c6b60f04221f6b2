"""Small previews of accepted images."""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_MEDIA_TYPE = "image/webp"


def make_thumbnail(img: Image.Image, size: int = 256) -> bytes:
    """WebP bytes of ``img`` scaled to fit ``size`` x ``size``, aspect ratio kept.

    Resized straight from ``img`` (no full-size copy: a 40-megapixel photo would cost
    160 MB more).
    """
    scale = min(size / img.width, size / img.height, 1.0)
    box = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    thumb = img.resize(box, Image.Resampling.LANCZOS, reducing_gap=2.0)
    buffer = io.BytesIO()
    thumb.save(buffer, "WEBP", quality=80, method=4)
    return buffer.getvalue()
