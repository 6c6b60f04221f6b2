"""A confusion matrix as a PNG picture, drawn with Pillow alone.

Cells are shaded white to blue by the share of their row (the true class), each shows
its count, true classes label the rows and predicted classes the columns.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]
# What ImageFont.load_default gives: a scalable font, or a bitmap one without FreeType.
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

WHITE: Colour = (255, 255, 255)
BLUE: Colour = (33, 102, 172)
DARK_TEXT: Colour = (33, 37, 41)
ZERO_TEXT: Colour = (170, 170, 170)
GRID: Colour = (222, 226, 230)
BORDER: Colour = (134, 142, 150)
MARGIN = 16
GAP = 8
MAX_LABEL_WIDTH = 150
ELLIPSIS = "…"


def confusion_matrix_png(
    matrix: Sequence[Sequence[int]],
    class_names: Sequence[str],
    *,
    true_label: str = "True",
    predicted_label: str = "Predicted",
) -> bytes:
    """PNG bytes of ``matrix``: rows true classes, columns predicted, in ``class_names`` order."""
    count = len(class_names)
    if len(matrix) != count or any(len(row) != count for row in matrix):
        raise ValueError(f"expected a {count} x {count} matrix")
    cell = max(30, min(96, 560 // count))
    label_font = ImageFont.load_default(size=13 if count <= 12 else 12)
    title_font = ImageFont.load_default(size=15)
    count_font = _count_font(cell, max((str(v) for row in matrix for v in row), key=len))
    labels = [_truncate(name, label_font, MAX_LABEL_WIDTH) for name in class_names]
    label_width = max(round(label_font.getlength(label)) for label in labels)
    line_height = _line_height(label_font)
    title_height = _line_height(title_font)
    vertical_columns = label_width > cell - 4
    columns_height = label_width if vertical_columns else line_height
    left = MARGIN + title_height + GAP + label_width + GAP
    top = MARGIN
    side = count * cell
    width = left + side + MARGIN
    height = top + side + GAP + columns_height + GAP + title_height + MARGIN
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    for row, values in enumerate(matrix):
        total = sum(values)
        for column, value in enumerate(values):
            share = value / total if total else 0.0
            fill = _shade(share)
            x0, y0 = left + column * cell, top + row * cell
            draw.rectangle((x0, y0, x0 + cell, y0 + cell), fill=fill, outline=GRID)
            colour = ZERO_TEXT if value == 0 else WHITE if _is_dark(fill) else DARK_TEXT
            centre = (x0 + cell / 2, y0 + cell / 2)
            draw.text(centre, str(value), fill=colour, font=count_font, anchor="mm")
    draw.rectangle((left, top, left + side, top + side), outline=BORDER)
    for index, label in enumerate(labels):
        middle = index * cell + cell / 2
        draw.text((left - GAP, top + middle), label, fill=DARK_TEXT, font=label_font, anchor="rm")
        if vertical_columns:
            _paste_vertical(image, label, label_font, (left + middle, top + side + GAP), "top")
        else:
            position = (left + middle, top + side + GAP)
            draw.text(position, label, fill=DARK_TEXT, font=label_font, anchor="mt")
    title_top = top + side + GAP + columns_height + GAP
    draw.text(
        (left + side / 2, title_top), predicted_label, fill=DARK_TEXT, font=title_font, anchor="mt"
    )
    _paste_vertical(image, true_label, title_font, (MARGIN, top + side / 2), "left")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _shade(share: float) -> Colour:
    """White for 0, ``BLUE`` for 1."""
    r, g, b = (round(w + (c - w) * share) for w, c in zip(WHITE, BLUE, strict=True))
    return r, g, b


def _is_dark(colour: Colour) -> bool:
    """Whether white text reads better than dark text on ``colour`` (by luma)."""
    r, g, b = colour
    return 0.299 * r + 0.587 * g + 0.114 * b < 150


def _count_font(cell: int, widest: str) -> Font:
    """The largest font, up to 0.3 of the cell and 22 px, that fits ``widest`` in a cell."""
    size = max(9, min(22, round(cell * 0.3)))
    font = ImageFont.load_default(size=size)
    while size > 9 and font.getlength(widest) > cell - 6:
        size -= 1
        font = ImageFont.load_default(size=size)
    return font


def _truncate(text: str, font: Font, max_width: int) -> str:
    """``text``, shortened with an ellipsis to fit ``max_width`` pixels."""
    if font.getlength(text) <= max_width:
        return text
    while text and font.getlength(text + ELLIPSIS) > max_width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _line_height(font: Font) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return ascent + descent
    _left, top, _right, bottom = font.getbbox("Ag")  # a bitmap font has no metrics
    return bottom - top


def _paste_vertical(
    image: Image.Image,
    text: str,
    font: Font,
    anchor_point: tuple[float, float],
    attach: str,
) -> None:
    """Draw ``text`` reading upwards, its end at the anchor's top (``"top"``) or centred
    vertically with its left side at the anchor (``"left"``)."""
    length, height = round(font.getlength(text)), _line_height(font)
    mask = Image.new("L", (max(1, length), height), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    mask = mask.rotate(90, expand=True)
    x, y = anchor_point
    if attach == "top":
        box = (round(x - mask.width / 2), round(y))
    else:
        box = (round(x), round(y - mask.height / 2))
    image.paste(DARK_TEXT, (*box, box[0] + mask.width, box[1] + mask.height), mask)
