"""The one image intake used by every upload path, for training and inference alike.

``read_header`` checks the byte limit, the format (by content, from an allow-list) and
the pixel count from the header, and says what decoding will cost in memory;
``decode`` then refuses truncated files, applies the EXIF orientation and returns an
8-bit RGB image, alpha composited on white. ``open_image`` does both.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")

# Leading bytes of the allowed formats: a file that starts like one of them but that
# Pillow cannot identify is damaged, not of another format.
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF87a", b"GIF89a", b"BM")

BYTES_PER_PIXEL = 4  # Pillow keeps RGB, RGBA and the like in 4 bytes a pixel

_HIGH_BIT_DEPTH_GREY = ("I", "I;16", "I;16B", "I;16L", "I;16N")


class ImageRejected(Exception):
    """An upload that is not an acceptable image; ``code`` is stable, ``message`` is for people.

    ``jpeg`` tells a JPEG refused under the (higher) JPEG pixel limit from other images.
    """

    def __init__(self, code: str, message: str, *, jpeg: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.jpeg = jpeg


@dataclass(frozen=True)
class Header:
    """An image whose header was read and checked but whose pixels are not decoded yet."""

    image: Image.Image
    cost: int  # bytes of memory decoding it will hold at most


def open_image(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    max_jpeg_pixels: int | None = None,
    min_short_side: int | None = 256,
) -> Image.Image:
    """Decode ``data`` into an upright RGB image, or raise ``ImageRejected``."""
    return decode(
        read_header(
            data,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            max_jpeg_pixels=max_jpeg_pixels,
            min_short_side=min_short_side,
        )
    )


def read_header(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    max_jpeg_pixels: int | None = None,
    min_short_side: int | None = 256,
) -> Header:
    """Check ``data`` from its header alone and say what decoding it will cost.

    JPEGs are decoded at a reduced scale (1/2, 1/4 or 1/8) whose short side stays at
    least ``min_short_side`` pixels (``None``: full size); they may then have up to
    ``max_jpeg_pixels`` (default: ``max_pixels``) as long as the reduced image has at
    most ``max_pixels``. Other formats are decoded at full size: at most ``max_pixels``.
    """
    if not data:
        raise ImageRejected("empty", "The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(
            "too_large", f"The file is larger than the limit of {_megabytes(max_bytes)}."
        )
    jpeg_limit = max_pixels if max_jpeg_pixels is None else max(max_pixels, max_jpeg_pixels)
    _raise_pillow_guard(jpeg_limit)
    image = _open(data)
    width, height = image.size
    draft_side = min_short_side if image.format == "JPEG" else None
    reducible = draft_side is not None
    if width * height > (jpeg_limit if reducible else max_pixels):
        raise _too_many_pixels(jpeg_limit if reducible else max_pixels, jpeg=reducible)
    if draft_side is not None:
        image.draft("RGB", (draft_side, draft_side))
        if image.width * image.height > max_pixels:
            raise _too_many_pixels(jpeg_limit, jpeg=True)
    return Header(image, decoding_cost(image, original_size=(width, height)))


def decoding_cost(image: Image.Image, *, original_size: tuple[int, int]) -> int:
    """Bytes decoding ``image`` (opened, drafted) holds at most.

    The decoded pixels as Pillow keeps them (4 bytes each for RGB) and one working copy
    (mode conversion, orientation); a progressive JPEG also keeps all its DCT
    coefficients (2 bytes per sample of the full-size image), whatever the scale.
    """
    cost: float = image.width * image.height * BYTES_PER_PIXEL * 2
    if image.format == "JPEG" and image.info.get("progressive"):
        cost += original_size[0] * original_size[1] * _samples_per_pixel(image) * 2
    return int(cost)


def _samples_per_pixel(image: Image.Image) -> float:
    """Colour samples per pixel of a JPEG (3 without subsampling, 1.5 at 4:2:0)."""
    layers = getattr(image, "layer", None) or []
    if not layers:
        return 3.0
    h_max = max(h for _id, h, _v, _q in layers)
    v_max = max(v for _id, _h, v, _q in layers)
    return float(sum(h * v for _id, h, v, _q in layers) / (h_max * v_max))


def decode(header: Header) -> Image.Image:
    """The checked image's pixels, upright and in 8-bit RGB."""
    return _to_rgb(_decode(header.image))


def _raise_pillow_guard(limit: int) -> None:
    """Pillow's process-wide bomb guard (warns above, refuses above twice) must not be
    stricter than our own limit, which is checked from the header before any decode."""
    if Image.MAX_IMAGE_PIXELS is not None and limit > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = limit


def may_be_image(prefix: bytes) -> bool:
    """Whether bytes starting with ``prefix`` can be an image of an allowed format."""
    return prefix.startswith(_SIGNATURES)


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


def _decode(image: Image.Image) -> Image.Image:
    """Decode the pixels (the first frame of an animation) and turn them upright."""
    try:
        image.load()
        # In place: without an orientation to apply, a copy would double the memory.
        ImageOps.exif_transpose(image, in_place=True)
        return image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(None) from None
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


def _too_many_pixels(max_pixels: int | None, *, jpeg: bool = False) -> ImageRejected:
    limit = f" of {max_pixels / 1e6:g} megapixels" if max_pixels is not None else ""
    return ImageRejected(
        "too_many_pixels", f"The image has more pixels than the limit{limit}.", jpeg=jpeg
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
