"""What a request carries: one image, a multipart form of images, or model pixels.

The body is read against the byte limit from its ``Content-Length`` and again while it
streams in, so a client that lies about its length is cut off as soon as it overflows.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import numpy as np
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from mirada.inference.service.errors import ServiceError
from mirada.vision.preprocess import PIXELS_SHAPE

RGB224 = "application/x-mirada-rgb224"
RGB224_BYTES = int(np.prod(PIXELS_SHAPE))  # 150528 bytes an image


class Kind(enum.Enum):
    """How the body holds its images."""

    IMAGE = "image"
    MULTIPART = "multipart"
    RGB224 = "rgb224"


@dataclass(frozen=True)
class Part:
    """One file of a multipart body."""

    filename: str
    data: bytes


def body_kind(content_type: str) -> Kind:
    """The kind of body a ``Content-Type`` announces; 415 for anything else."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media.startswith("image/") or media == "application/octet-stream":
        return Kind.IMAGE
    if media == "multipart/form-data":
        return Kind.MULTIPART
    if media == RGB224:
        return Kind.RGB224
    raise ServiceError(
        415,
        "unsupported_media_type",
        f"Send an image (image/* or application/octet-stream), multipart/form-data or "
        f"{RGB224}, not {media or 'nothing'}.",
    )


def whole_number(raw: str) -> bool:
    """ASCII digits only, and few of them (``isdigit`` alone takes ² and ٣)."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 9


def too_large(limit: int) -> ServiceError:
    return ServiceError(413, "too_large", f"The body is larger than the limit of {limit} bytes.")


async def read_body(request: Request, *, limit: int) -> bytes:
    """The whole body, refused with 413 once it is known or seen to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not whole_number(declared):
            raise ServiceError(400, "bad_length", "The Content-Length header is not a number.")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise ServiceError(400, "empty", "The body is empty: send an image.")
    return body


async def file_parts(headers: Headers, body: bytes, *, max_parts: int) -> list[Part]:
    """The file parts of a multipart body, in order; 413 past ``max_parts``."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        headers, stream(), max_files=max_parts, max_fields=max_parts, max_part_size=len(body)
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        if "Too many files" in error.message:
            raise ServiceError(
                413, "too_many_images", f"At most {max_parts} images in one request."
            ) from None
        raise ServiceError(400, "bad_multipart", error.message) from None
    parts = []
    try:
        for _name, value in form.multi_items():
            if isinstance(value, UploadFile):
                parts.append(Part(value.filename or "", await value.read()))
    finally:
        await form.close()
    if not parts:
        raise ServiceError(400, "empty", "The form holds no file: send one or more images.")
    return parts


def rgb224_pixels(body: bytes, *, max_images: int) -> np.ndarray:
    """Model pixels ``[N, 224, 224, 3]`` from a body of N of them; 400 for a bad length."""
    if len(body) % RGB224_BYTES:
        raise ServiceError(
            400, "bad_rgb224", f"An {RGB224} body is a whole number of {RGB224_BYTES}-byte images."
        )
    count = len(body) // RGB224_BYTES
    if count > max_images:
        raise ServiceError(413, "too_many_images", f"At most {max_images} images in one request.")
    return np.frombuffer(body, dtype=np.uint8).reshape(count, *PIXELS_SHAPE)
