"""The canvas operators a sheet writes: every string PDF-escaped and drawn literally (nothing parsed), the
text of the shared subset and the numbers as ReportLab writes them, cached per process (bounded; what is kept
never changes a byte)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from gateway.render.fonts import (
    SEED_CODES,
)

# (font name, text) → the text as a PDF string literal in subset 0, or None when some character of it gets
# its code from the document (first seen there): those go through ``splitString``. Bounded: data strings
# (names, references) come and go; emptied when full (the bytes never depend on what is cached).
_SHOWN: dict[tuple[str, str], str | None] = {}
_SHOWN_MAX = 20_000


def _shown(name: str, text: str) -> str | None:
    key = (name, text)
    try:
        return _SHOWN[key]
    except KeyError:
        pass
    table = SEED_CODES.get(name)  # None: not one of the sheet fonts, no fixed codes
    try:
        literal = None if table is None else f"({escapePDF(text.translate(table).encode('latin-1'))}) Tj"
    except UnicodeEncodeError:
        literal = None
    if len(_SHOWN) >= _SHOWN_MAX:
        _SHOWN.clear()
    _SHOWN[key] = literal
    return literal


# numbers → as ReportLab writes them (``fp_str``): positions, sizes and colours recur from one row, page and
# document to the next, and fp_str costs half a microsecond a call. Equal numbers are written alike (0 and
# -0.0 both as « 0 », 1 and 1.0 as « 1 »), so what is kept never changes a byte. Bounded like _SHOWN.
_NUMBERS: dict[tuple[float, ...], str] = {}


def _fp(*values: float) -> str:
    text = _NUMBERS.get(values)
    if text is None:
        text = fp_str(*values)
        if len(_NUMBERS) >= _SHOWN_MAX:
            _NUMBERS.clear()
        _NUMBERS[values] = text
    return text


def draw_ops(canvas: Canvas, ops: Sequence[tuple[Any, ...]]) -> None:
    """The recorded operations as PDF operators, appended to the page's content in one ``q … Q`` block.

    What ``drawString`` does (a text object per string, the font's subset codes, PDF escaping) without its
    per-call bookkeeping: a page of a few hundred strings costs a fraction of a millisecond. A string
    made only of characters whose subset code is fixed (:func:`_seed_codes`) is encoded once per process
    (:func:`_shown`); the document's font state must already have the :data:`SEED` split into it.
    """
    doc = canvas._doc
    code = ["q"]
    emit = code.append
    in_text = False
    face: tuple[str, int, float] | None = None
    fill: Any = None
    stroke: Any = None
    line_width: float | None = None
    for op in ops:
        kind = op[0]
        if kind == "t":
            _, x, y, text, name, size, color, align = op
            font = pdfmetrics.getFont(name)
            if not in_text:
                emit("BT")
                in_text, face = True, None
            if fill is not color:
                emit(f"{_fp(color.red, color.green, color.blue)} rg")
                fill = color
            if align:
                width = font.stringWidth(text, size)
                x -= width if align == "r" else width / 2
            emit(f"1 0 0 1 {_fp(x, y)} Tm")
            literal = _shown(name, text)
            if literal is not None:
                if face != (name, 0, size):
                    emit(f"{font.getSubsetInternalName(0, doc)} {_fp(size)} Tf")
                    face = (name, 0, size)
                emit(literal)
                continue
            for subset, chunk in TTFont.splitString(font, text, doc):  # some character without a fixed code
                if face != (name, subset, size):
                    emit(f"{font.getSubsetInternalName(subset, doc)} {_fp(size)} Tf")
                    face = (name, subset, size)
                emit(f"({escapePDF(chunk)}) Tj")
            continue
        if in_text:
            emit("ET")
            in_text = False
        if kind == "r":
            _, x, y, w, h, color = op
            if fill is not color:
                emit(f"{_fp(color.red, color.green, color.blue)} rg")
                fill = color
            emit(f"{_fp(x, y, w, h)} re f")
            continue
        _, *geometry, width, color = op
        if stroke is not color:
            emit(f"{_fp(color.red, color.green, color.blue)} RG")
            stroke = color
        if line_width != width:
            emit(f"{_fp(width)} w")
            line_width = width
        if kind == "l":
            x1, y1, x2, y2 = geometry
            emit(f"{_fp(x1, y1)} m {_fp(x2, y2)} l S")
        else:  # "b": a box
            emit(f"{_fp(*geometry)} re S")
    if in_text:
        emit("ET")
    emit("Q")
    canvas._code.append("\n".join(code))
