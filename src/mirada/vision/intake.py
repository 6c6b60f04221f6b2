"""The one image intake used by every upload path, for training and inference alike.

``open_image`` checks the byte limit, the format (by content, from an allow-list) and
the pixel count from the header before decoding; it refuses truncated files, applies
the EXIF orientation and returns an 8-bit RGB image, alpha composited on white.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")

# Leading bytes of the allowed formats: a file that starts like one of them but that
# Pillow cannot identify is damaged, not of another format.
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF87a", b"GIF89a", b"BM")

_HIGH_BIT_DEPTH_GREY = ("I", "I;16", "I;16B", "I;16L", "I;16N")


class ImageRejected(Exception):
    """An upload that is not an acceptable image; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def open_image(
    data: bytes, *, max_bytes: int, max_pixels: int, min_short_side: int | None = 256
) -> Image.Image:
    """Decode ``data`` into an upright RGB image, or raise ``ImageRejected``.

    JPEGs are decoded at a reduced scale whose short side stays at least
    ``min_short_side`` pixels (``None``: full size); the pixel limit applies to the
    original size.
    """
    if not data:
        raise ImageRejected("empty", "The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(
            "too_large", f"The file is larger than the limit of {_megabytes(max_bytes)}."
        )
    image = _open(data)
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    if image.format == "JPEG" and min_short_side is not None:
        image.draft("RGB", (min_short_side, min_short_side))
    return _to_rgb(_decode(image, max_pixels))


def _open(data: bytes) -> Image.Image:
    """Identify the format and read the header only."""
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError:
        if data.startswith(_SIGNATURES):
            raise ImageRejected("corrupt", "The image file is damaged.") from None
        raise ImageRejected(
            "unsupported_format",
            "This file type is not supported: use JPEG, PNG, WebP, GIF or BMP.",
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, reached before ours for very large headers; the
        # warning arrives as an exception where warnings are errors.
        raise _too_many_pixels(None) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _decode_error(error) from None


def _decode(image: Image.Image, max_pixels: int) -> Image.Image:
    """Decode the pixels (the first frame of an animation) and turn them upright."""
    try:
        image.load()
        return ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _decode_error(error) from None


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any decoded mode to 8-bit RGB, compositing transparency on white."""
    if image.mode in _HIGH_BIT_DEPTH_GREY:
        # Pillow's own conversion clips 16-bit values at 255 instead of scaling them.
        grey = np.asarray(image, dtype=np.float32) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def _decode_error(error: BaseException) -> ImageRejected:
    if isinstance(error, EOFError) or "truncated" in str(error).lower():
        return ImageRejected("truncated", "The image file is incomplete (truncated).")
    return ImageRejected("corrupt", "The image file is damaged.")


def _too_many_pixels(max_pixels: int | None) -> ImageRejected:
    limit = f" of {max_pixels / 1e6:g} megapixels" if max_pixels is not None else ""
    return ImageRejected("too_many_pixels", f"The image has more pixels than the limit{limit}.")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
