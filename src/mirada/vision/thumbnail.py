"""Small previews of accepted images."""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_MEDIA_TYPE = "image/webp"


def make_thumbnail(img: Image.Image, size: int = 256) -> bytes:
    """WebP bytes of ``img`` scaled to fit ``size`` x ``size``, aspect ratio kept."""
    thumb = img.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buffer = io.BytesIO()
    thumb.save(buffer, "WEBP", quality=80, method=4)
    return buffer.getvalue()
