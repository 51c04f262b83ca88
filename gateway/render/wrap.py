"""Text measured and wrapped with the fonts' own widths (the sheets' paragraphs and table cells): at spaces,
after a hyphen of a long compound, inside a word only when nothing else fits. Pure functions over the text,
cached per process (bounded; what is kept never changes a line)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.rl_accel import instanceStringWidthTTF
from reportlab.pdfbase import pdfmetrics

from gateway.render.fonts import (
    FONT,
    FONT_BOLD,
)

_TRUETYPE = {name: pdfmetrics.getFont(name) for name in (FONT, FONT_BOLD)}


def _width(text: str, font: str, size: float) -> float:
    """``pdfmetrics.stringWidth``: the same C function on the font, without the two calls in between."""
    face = _TRUETYPE.get(font)
    if face is None:
        return pdfmetrics.stringWidth(text, font, size)
    return instanceStringWidthTTF(face, text, size)


# (text, font, size, width) → its lines: table headings, labels and fund names come back in every document.
# Bounded like _SHOWN (emptied when full; a pure function, so what is kept never changes a line).
_WRAPPED: dict[tuple[str, str, float, float], tuple[str, ...]] = {}
_WRAPPED_MAX = 20_000


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` cut into lines of at most ``width`` points: at spaces, after a hyphen of a long compound
    name, and a word longer than a line (an XPath, a SHA-256) after a slash or where it must. Never loses
    a character (only the spaces where lines break); an empty text is one empty line."""
    return list(wrapped(text, font, size, width))


def wrapped(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """:func:`wrap`, as the tuple kept per process."""
    key = (text, font, size, width)
    lines = _WRAPPED.get(key)
    if lines is None:
        if _width(text, font, size) <= width:
            lines = (text,)
        else:
            lines = tuple("".join(piece for _x, piece, _f in line)
                          for line in _wrap_runs(((text, font),), size, width))
        if len(_WRAPPED) >= _WRAPPED_MAX:
            _WRAPPED.clear()
        _WRAPPED[key] = lines
    return lines


# (runs, size, width) → their lines: the notes and explanations of a document, the month's rates. Fewer
# kept than single texts: a paragraph may be long.
_WRAPPED_RUNS: dict[tuple[Any, ...], tuple[tuple[tuple[float, str, str], ...], ...]] = {}
_WRAPPED_RUNS_MAX = 2_000


def wrap_runs(runs: Sequence[tuple[str, str]], size: float, width: float
              ) -> Sequence[Sequence[tuple[float, str, str]]]:
    """Text in several fonts (``(text, font)`` runs, e.g. a bold label then its value, one space between
    them) wrapped into lines; each line is a sequence of ``(x offset, text, font)`` pieces. Spaces inside a
    line are kept as characters (text extraction and copy-paste see them). Kept per process like
    :func:`wrap` (a pure function: what is kept never changes a line)."""
    key = (tuple(runs), size, width)
    lines = _WRAPPED_RUNS.get(key)
    if lines is None:
        lines = tuple(tuple(line) for line in _wrap_runs(runs, size, width))
        if len(_WRAPPED_RUNS) >= _WRAPPED_RUNS_MAX:
            _WRAPPED_RUNS.clear()
        _WRAPPED_RUNS[key] = lines
    return lines


def _wrap_runs(runs: Sequence[tuple[str, str]], size: float, width: float
               ) -> list[list[tuple[float, str, str]]]:
    lines: list[list[tuple[float, str, str]]] = [[]]
    x = 0.0
    pending = 0  # spaces before the next word
    for number, (text, font) in enumerate(runs):
        space = _width(" ", font, size)
        if number:
            pending = max(pending, 1)
        for index, word in enumerate(text.split(" ")):
            if index:
                pending += 1
            if not word:
                continue
            gap = pending * space if lines[-1] else 0.0
            spaces = " " * pending
            pending = 0
            w = _width(word, font, size)
            if lines[-1] and x + gap + w > width:
                # A long compound name is cut after a hyphen when that fills a line left much too short
                # (« CHARCE-MONTGOLFIER- » ends it, the rest of the name starts the next one).
                room = width - x - gap
                cut = _fit(word, font, size, room, hyphens_only=True) if "-" in word and room > width / 4 else 0
                if cut:
                    _append(lines[-1], x + gap, spaces, word[:cut], font)
                    word = word[cut:]
                    w = _width(word, font, size)
                lines.append([])
                x, gap, spaces = 0.0, 0.0, ""
            while w > width:  # a word longer than the line: cut after a hyphen or a slash, else anywhere
                cut = _fit(word, font, size, width)
                lines[-1].append((0.0, word[:cut], font))
                word = word[cut:]
                if not word:  # one character wider than the line: drawn past it rather than lost
                    break
                lines.append([])
                x, gap, spaces = 0.0, 0.0, ""
                w = _width(word, font, size)
            if word:
                _append(lines[-1], x + gap, spaces, word, font)
            x += gap + w
    return lines


def _append(line: list[tuple[float, str, str]], x: float, spaces: str, word: str, font: str) -> None:
    """``word`` onto ``line`` after ``spaces``: into the last piece when it has the same font."""
    if line and line[-1][2] == font:
        start, prev, _ = line[-1]
        line[-1] = (start, prev + spaces + word, font)
        return
    if line:
        start, prev, prev_font = line[-1]
        line[-1] = (start, prev + spaces, prev_font)
    line.append((x, word, font))


def _fit(word: str, font: str, size: float, width: float, *, hyphens_only: bool = False) -> int:
    """How many first characters of ``word`` to put on a line of ``width``: up to a hyphen or a slash
    when one fits, else as many as fit (at least one); with ``hyphens_only``, 0 when no hyphen fits."""
    low, high = 0, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if _width(word[:mid], font, size) <= width:
            low = mid
        else:
            high = mid - 1
    breaks = max(word.rfind("-", 0, low), -1 if hyphens_only else word.rfind("/", 1, low))
    if 0 < breaks < len(word) - 3:  # never leaves a stub (« > », « JJ ») alone on the next line
        return breaks + 1
    if hyphens_only:
        return 0
    return max(min(low, len(word) - 3), 1)  # a few characters carried over with the stub
