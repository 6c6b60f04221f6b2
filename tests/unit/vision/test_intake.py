"""The image intake against a corpus of real and hostile files generated here."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from skimage import data

from mirada.vision.intake import ImageRejected, open_image

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    return encode(Image.fromarray(pixels), "JPEG", quality=90)


def rejected(data_: bytes, **limits: int) -> str:
    with pytest.raises(ImageRejected) as caught:
        open_image(data_, **{**LIMITS, **limits})
    assert caught.value.message
    return caught.value.code


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` RGB pixels but holds almost none."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def close(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_a_photo_comes_back_as_rgb_at_full_size() -> None:
    image = open_image(encode(Image.fromarray(data.coffee()), "PNG"), **LIMITS)
    assert (image.mode, image.size) == ("RGB", (600, 400))
    assert np.array_equal(np.asarray(image), data.coffee())


def test_empty_bytes() -> None:
    assert rejected(b"") == "empty"


def test_bytes_over_the_limit_are_refused_before_decoding() -> None:
    assert rejected(jpeg_bytes(data.chelsea()), max_bytes=1000) == "too_large"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files(fmt: str) -> None:
    whole = encode(Image.fromarray(data.chelsea()), fmt)
    assert rejected(whole[: len(whole) // 2]) == "truncated"


def test_a_damaged_png() -> None:
    damaged = bytearray(encode(Image.fromarray(data.chelsea()), "PNG"))
    middle = len(damaged) // 2
    damaged[middle : middle + 200] = b"\xff" * 200
    assert rejected(bytes(damaged)) == "corrupt"


@pytest.mark.parametrize(
    "content",
    [
        b"Just some text, even if the file is called photo.jpg\n",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
    ],
    ids=["text", "svg"],
)
def test_not_an_image(content: bytes) -> None:
    assert rejected(content) == "unsupported_format"


def test_tiff_is_not_on_the_allow_list() -> None:
    assert rejected(encode(Image.new("RGB", (32, 32), RED), "TIFF")) == "unsupported_format"


@pytest.mark.parametrize(
    ("width", "height"),
    [(8000, 6000), (10_000, 10_000), (30_000, 30_000)],
    ids=["over-our-limit", "pillow-warning-range", "pillow-bomb-error"],
)
def test_pixel_limit_from_the_header(width: int, height: int) -> None:
    assert rejected(png_header(width, height)) == "too_many_pixels"


def test_pixel_limit_is_configurable() -> None:
    assert rejected(jpeg_bytes(data.chelsea()), max_pixels=451 * 300 - 1) == "too_many_pixels"
    assert open_image(jpeg_bytes(data.chelsea()), **{**LIMITS, "max_pixels": 451 * 300})


def quadrants(width: int = 64, height: int = 48) -> Image.Image:
    """Top left red, top right green, bottom left blue, bottom right white."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[: height // 2, : width // 2] = RED
    pixels[: height // 2, width // 2 :] = GREEN
    pixels[height // 2 :, : width // 2] = BLUE
    pixels[height // 2 :, width // 2 :] = WHITE
    return Image.fromarray(pixels)


# How a camera stores an upright picture for each EXIF orientation value (the tag
# says what a viewer must do to show it upright), e.g. 6: "rotate 90° clockwise to
# view", so the stored pixels are the upright picture turned 90° counter-clockwise.
STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_exif_orientation_is_applied(orientation: int) -> None:
    upright = quadrants()
    method = STORED_AS[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = open_image(encode(stored, "JPEG", quality=95, exif=exif), **LIMITS)
    assert image.size == (64, 48)
    assert close(image.getpixel((8, 8)), RED)
    assert close(image.getpixel((56, 8)), GREEN)
    assert close(image.getpixel((8, 40)), BLUE)
    assert close(image.getpixel((56, 40)), WHITE)


def test_cmyk_jpeg() -> None:
    image = open_image(encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG"), **LIMITS)
    assert image.mode == "RGB"
    assert close(image.getpixel((16, 16)), RED)


def test_16_bit_greyscale_png_is_scaled_not_clipped() -> None:
    grey = np.full((16, 16), 0x8080, dtype=np.uint16)
    grey[0, 0] = 0xFFFF
    stored = Image.fromarray(grey)
    assert stored.mode.startswith("I;16")
    image = open_image(encode(stored, "PNG"), **LIMITS)
    assert image.mode == "RGB"
    assert image.getpixel((5, 5)) == (128, 128, 128)
    assert image.getpixel((0, 0)) == WHITE


def test_palette_png_with_transparency() -> None:
    palette_image = Image.new("P", (20, 10), 0)
    palette_image.putpalette([0, 0, 0, *RED])
    palette_image.paste(1, (10, 0, 20, 10))
    image = open_image(encode(palette_image, "PNG", transparency=0), **LIMITS)
    assert image.getpixel((2, 5)) == WHITE  # transparent black shows the white background
    assert image.getpixel((15, 5)) == RED


def test_greyscale_with_alpha() -> None:
    la = Image.new("LA", (20, 10), (0, 0))
    la.paste((0, 255), (10, 0, 20, 10))
    image = open_image(encode(la, "PNG"), **LIMITS)
    assert image.getpixel((2, 5)) == WHITE
    assert image.getpixel((15, 5)) == (0, 0, 0)


def test_rgba_is_composited_on_white() -> None:
    image = open_image(encode(Image.new("RGBA", (8, 8), (255, 0, 0, 128)), "PNG"), **LIMITS)
    assert close(image.getpixel((4, 4)), (255, 127, 127), tolerance=1)


@pytest.mark.parametrize(("fmt", "options"), [("BMP", {}), ("WEBP", {"lossless": True})])
def test_other_allowed_formats(fmt: str, options: dict[str, object]) -> None:
    image = open_image(encode(quadrants(), fmt, **options), **LIMITS)
    assert (image.mode, image.size) == ("RGB", (64, 48))
    assert image.getpixel((8, 8)) == RED
    assert image.getpixel((56, 40)) == WHITE


def test_greyscale_jpeg() -> None:
    image = open_image(encode(Image.new("L", (16, 16), 200), "JPEG"), **LIMITS)
    assert image.mode == "RGB"
    assert close(image.getpixel((8, 8)), (200, 200, 200), tolerance=2)


def test_only_the_first_gif_frame_is_used() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in (RED, BLUE, GREEN)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(gif)).n_frames == 3
    image = open_image(gif, **LIMITS)
    assert image.mode == "RGB"
    assert image.getpixel((8, 8)) == RED


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    return encode(Image.fromarray(data.chelsea()).resize((4000, 3000)), "JPEG", quality=90)


def test_large_jpegs_are_decoded_at_a_reduced_scale(large_jpeg: bytes) -> None:
    image = open_image(large_jpeg, **LIMITS)
    assert 256 <= min(image.size) < 3000
    assert image.size[0] / image.size[1] == pytest.approx(4 / 3, rel=0.01)
    assert open_image(large_jpeg, **LIMITS, min_short_side=1000).size == (2000, 1500)


def test_full_size_decoding_on_request(large_jpeg: bytes) -> None:
    assert open_image(large_jpeg, **LIMITS, min_short_side=None).size == (4000, 3000)


def test_the_pixel_limit_uses_the_original_size(large_jpeg: bytes) -> None:
    assert rejected(large_jpeg, max_pixels=4000 * 3000 - 1) == "too_many_pixels"
