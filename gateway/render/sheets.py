"""Documents drawn straight on the canvas (the frequent ones: acknowledgement, declaration, payslip — tens of
thousands a month) by :class:`Sheet`, at computed positions, in a few milliseconds each; the same fonts, sizes,
rules and page frame as the Platypus documents of :mod:`.flow`. Every string is drawn literally.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from gateway.errors import RenderError
from gateway.render.flow import (
    page_decorator,
)
from gateway.render.fonts import (
    BLACK,
    CAISSES,
    CONTENT_WIDTH,
    FONT,
    FONT_BOLD,
    FOOTER_HEIGHT,
    GREY,
    HEADER_HEIGHT,
    LIGHT,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PRODUCER,
    RULE,
    seeded_state,
)
from gateway.render.ops import draw_ops
from gateway.render.text import one_line
from gateway.render.wrap import wrap_runs, wrapped

# --- Sheets: fixed layouts drawn straight on the canvas -------------------------------------------------
#
# The frequent documents (acknowledgement, declaration, payslip: tens of thousands a month) are laid out
# here at computed positions instead of through Platypus: text is measured with the font's widths and
# wrapped only where it comes from data, pages are cut before drawing so each can say « page X/Y », and
# every string is drawn literally (PDF-escaped text operators, nothing parsed). Same fonts, sizes and rules as
# the Platypus styles above, so both kinds of documents look alike.


class TextStyle(NamedTuple):
    font: str
    size: float
    color: Any = BLACK

    @property
    def leading(self) -> float:
        return self.size * 1.22


S_BODY = TextStyle(FONT, 9)
S_SMALL = TextStyle(FONT, 7.5, GREY)
S_TITLE = TextStyle(FONT_BOLD, 15)
S_H2 = TextStyle(FONT_BOLD, 11)
S_H3 = TextStyle(FONT_BOLD, 9.5)
S_STRONG = TextStyle(FONT_BOLD, 10)
S_BIG = TextStyle(FONT_BOLD, 13)
S_CELL = TextStyle(FONT, 8)
S_CELL_BOLD = TextStyle(FONT_BOLD, 8)
S_CELL_SMALL = TextStyle(FONT, 7, GREY)
S_CELL_REF = TextStyle(FONT, 7)
S_HEAD = TextStyle(FONT_BOLD, 7)



class Para(NamedTuple):
    """Text from anywhere (data included) for a table cell, wrapped to the cell and drawn literally in
    ``style``; a cell of several Paras shows each on its own lines (a name, then its number in grey)."""

    text: str
    style: TextStyle = S_CELL


CellValue = str | Para | Sequence[Para]  # a plain string is drawn in the row's style
TOP = PAGE_HEIGHT - MARGIN - HEADER_HEIGHT
BOTTOM = MARGIN + FOOTER_HEIGHT


class Row(NamedTuple):
    cells: Sequence[CellValue]
    style: TextStyle = S_CELL
    rule_above: float = 0.0  # a black rule above the row (totals)
    shaded: bool = False
    span: tuple[int, int] = (0, 0)  # (column, n): the cell of that column runs over n more columns
    group: int = 0  # rows with the same non-zero group stay on one page (an employee and its events)


class Sheet:
    """A document laid out as drawing operations, page by page, then drawn with its page decoration.

    ``y`` is where the next block starts (PDF points from the bottom of the page). ``one_page`` never cuts
    a page: what does not fit is shrunk to fit, like a payslip's Platypus ``KeepInFrame``.
    """

    def __init__(self, *, one_page: bool = False) -> None:
        self.pages: list[list[tuple[Any, ...]]] = [[]]
        self.ops = self.pages[0]
        self.y = TOP
        self.one_page = one_page

    # -- pages and space --
    def new_page(self) -> None:
        self.ops = []
        self.pages.append(self.ops)
        self.y = TOP

    def room(self) -> float:
        return self.y - BOTTOM

    def need(self, height: float) -> bool:
        """A new page when ``height`` does not fit below ``y`` (and something is on this page); True if
        it cut."""
        if not self.one_page and height > self.room() and self.y < TOP:
            self.new_page()
            return True
        return False

    def space(self, height: float) -> None:
        self.y -= height

    # -- drawing operations (recorded) --
    def text(self, x: float, y: float, text: str, style: TextStyle, align: str = "") -> None:
        if text:
            self.ops.append(("t", x, y, text, style.font, style.size, style.color, align))

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float, color: Any = BLACK) -> None:
        self.ops.append(("l", x1, y1, x2, y2, width, color))

    def rect(self, x: float, y: float, w: float, h: float, color: Any) -> None:
        self.ops.append(("r", x, y, w, h, color))

    def box(self, x: float, y: float, w: float, h: float, width: float, color: Any) -> None:
        self.ops.append(("b", x, y, w, h, width, color))

    # -- blocks --
    def para(self, text: object, style: TextStyle = S_BODY, *, space_before: float = 0, space_after: float = 0,
             x: float = MARGIN, width: float = CONTENT_WIDTH) -> None:
        """A wrapped paragraph of literal text; it may run over pages line by line."""
        self.runs(((one_line(text), style),), space_before=space_before, space_after=space_after, x=x,
                  width=width)

    def labelled(self, label: str, value: object, style: TextStyle = S_BODY, *, space_after: float = 0) -> None:
        """``label`` in bold then ``value``, wrapped together."""
        bold = TextStyle(FONT_BOLD, style.size, style.color)
        self.runs(((one_line(label), bold), (one_line(value), TextStyle(style.font, style.size, style.color))),
                  space_after=space_after)

    def runs(self, runs: Sequence[tuple[str, TextStyle]], *, space_before: float = 0, space_after: float = 0,
             x: float = MARGIN, width: float = CONTENT_WIDTH) -> None:
        """``(text, style)`` pieces wrapped together as one paragraph (one style per font: a bold label and
        its value); it may run over pages line by line."""
        size = max(s.size for _t, s in runs)
        styles = {s.font: s for _t, s in runs}
        leading = size * 1.22
        self.y -= space_before
        for line in wrap_runs([(t, s.font) for t, s in runs], size, width):
            self.need(leading)
            base = self.y - size * 0.95
            for dx, piece, font in line:
                self.text(x + dx, base, piece, styles[font])
            self.y -= leading
        self.y -= space_after

    def heading(self, text: object, style: TextStyle = S_H2) -> None:
        """A section title that never ends a page alone: a new page first when less than 30 mm remain."""
        before, after = (8, 4) if style is S_H2 else (5, 3)
        if not self.need(30 * mm + before):
            self.y -= before
        self.para(text, style, space_after=after)

    def key_values(self, pairs: Sequence[tuple[str, CellValue]], label_width: float = 40 * mm) -> None:
        """Label / value lines without rules: the identity block at the top of a document."""
        widths = [label_width, CONTENT_WIDTH - label_width]
        for label, value in pairs:
            self.row(widths, Row([Para(label, S_CELL_BOLD), value]), pad_x=0, pad_y=1, rule=0)

    def table(self, widths: Sequence[float], header: Sequence[str], rows: Sequence[Row], *,
              right: Sequence[int] = ()) -> None:
        """A ruled table with fixed column widths; its header repeats on every page it runs over."""
        if sum(widths) > CONTENT_WIDTH + 0.5:
            raise RenderError(f"tableau trop large: {sum(widths):.0f} pt > {CONTENT_WIDTH:.0f} pt")
        head = Row([Para(h, S_HEAD) for h in header], shaded=True)
        head_cells = self._cells(widths, head, right, 3)
        head_height = self._height(head_cells, 2)

        def draw_head() -> None:
            self._draw_row(widths, head_cells, head_height, head, right, 3, 2, rule=0.8, bottom_align=True)

        if not rows:
            self.need(head_height + 12)
            draw_head()
        index = 0
        while index < len(rows):
            group = [rows[index]]
            while rows[index].group and index + len(group) < len(rows) and \
                    rows[index + len(group)].group == rows[index].group:
                group.append(rows[index + len(group)])
            laid = [(r, self._cells(widths, r, right, 3)) for r in group]
            heights = [self._height(c, 2) for _r, c in laid]
            if index == 0:  # the header never ends a page alone: it goes with the first row (or group)
                self.need(head_height + min(sum(heights), TOP - BOTTOM - head_height))
                draw_head()
            elif not self.one_page and sum(heights) > self.room() and sum(heights) <= TOP - BOTTOM - head_height:
                self.new_page()
                draw_head()
            for (r, cells), height in zip(laid, heights, strict=True):
                self._place_row(widths, cells, height, r, right, 3, 2, 0.25, draw_head)
            index += len(group)

    def row(self, widths: Sequence[float], row: Row, *, right: Sequence[int] = (), pad_x: float = 3,
            pad_y: float = 2, rule: float = 0.25) -> None:
        cells = self._cells(widths, row, right, pad_x)
        self._place_row(widths, cells, self._height(cells, pad_y), row, right, pad_x, pad_y, rule, None)

    def _place_row(self, widths: Sequence[float], cells: list[tuple[float, float, bool, list[tuple[str, TextStyle]]]],
                   height: float, row: Row, right: Sequence[int], pad_x: float, pad_y: float, rule: float,
                   head: Callable[[], None] | None) -> None:
        """A row where it fits: on the next page (after the repeated header) when it does not fit here, cut
        between its lines when it is taller than a whole page (nothing is ever left out)."""
        while not self.one_page and height > self.room():
            if height <= TOP - BOTTOM - 40:  # fits a new page below the header repeated there
                self.new_page()
                if head:
                    head()
                continue
            room = self.room() - 2 * pad_y
            first = [(x, w, r, _lines_within(lines, room)) for x, w, r, lines in cells]
            if not any(lines for *_a, lines in first):
                self.new_page()
                if head:
                    head()
                continue
            self._draw_row(widths, first, self._height(first, pad_y), row, right, pad_x, pad_y, rule=rule)
            cells = [(x, w, r, lines[len(done):]) for (x, w, r, lines), (*_b, done) in zip(cells, first, strict=True)]
            height = self._height(cells, pad_y)
            row = row._replace(rule_above=0)
            self.new_page()
            if head:
                head()
        self._draw_row(widths, cells, height, row, right, pad_x, pad_y, rule=rule)

    # -- table internals --
    @staticmethod
    def _cells(widths: Sequence[float], row: Row, right: Sequence[int], pad_x: float
               ) -> list[tuple[float, float, bool, list[tuple[str, TextStyle]]]]:
        """Each cell as (x offset, width, right-aligned, wrapped lines with their style)."""
        out = []
        x = 0.0
        col = 0
        span_col, span_more = row.span
        for value in row.cells:
            span = span_more if col == span_col else 0
            w = sum(widths[col: col + 1 + span]) if span else widths[col]
            # (text, style) pairs: a plain string in the row's style, a Para, or several Paras
            paras = ((value, row.style),) if isinstance(value, str) else \
                (value,) if isinstance(value, Para) else value
            lines = []
            for text, style in paras:
                text = one_line(text)
                if text:
                    room = w - 2 * pad_x
                    lines += [(piece, style) for piece in wrapped(text, style.font, style.size, room)]
            out.append((x, w, col in right, lines))
            x += w
            col += 1 + span
        return out

    @staticmethod
    def _height(cells: list[tuple[float, float, bool, list[tuple[str, TextStyle]]]], pad_y: float) -> float:
        return 2 * pad_y + max((sum([s.leading for _t, s in cell[3]]) for cell in cells), default=0.0)

    def _draw_row(self, widths: Sequence[float], cells: list[tuple[float, float, bool, list[tuple[str, TextStyle]]]],
                  height: float, row: Row, right: Sequence[int], pad_x: float, pad_y: float, *, rule: float,
                  bottom_align: bool = False) -> None:
        top = self.y
        total = sum(widths)
        if row.shaded:
            self.rect(MARGIN, top - height, total, height, LIGHT)
        if row.rule_above:
            self.line(MARGIN, top, MARGIN + total, top, row.rule_above)
        for x, w, is_right, lines in cells:
            y = top - height + pad_y + sum([s.leading for _t, s in lines]) if bottom_align else top - pad_y
            for text, style in lines:
                base = y - style.size * 0.95
                if is_right:
                    self.text(MARGIN + x + w - pad_x, base, text, style, "r")
                else:
                    self.text(MARGIN + x + pad_x, base, text, style)
                y -= style.leading
        if rule:
            self.line(MARGIN, top - height, MARGIN + total, top - height, rule, BLACK if rule >= 0.8 else RULE)
        self.y = top - height

    # -- output --
    def render(self, *, title: str, reference: str, test: bool = False, subject: str = "") -> bytes:
        """The PDF: every page with its header, footer, ``page X/Y`` and, for a test, the watermark and
        banner. Deterministic (ReportLab ``invariant``)."""
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=FONT, lang="fr-FR")
        canvas.setTitle(one_line(f"{title} — {reference}"))
        canvas.setAuthor(CAISSES)
        canvas.setSubject(one_line(subject or title))
        canvas.setCreator(PRODUCER)
        for font in (FONT, FONT_BOLD):  # the same first characters in every subset: see _CachedTTFont
            pdfmetrics.getFont(font).state[canvas._doc] = seeded_state(font)
        decorate = page_decorator(title, reference, test)
        total = len(self.pages)
        try:
            for number, ops in enumerate(self.pages, start=1):
                decorate(canvas, None)
                canvas.saveState()
                if self.one_page and self.y < BOTTOM:  # shrink to fit, anchored at the top left
                    scale = (TOP - BOTTOM) / (TOP - self.y)
                    canvas.translate(MARGIN, TOP)
                    canvas.scale(scale, scale)
                    canvas.translate(-MARGIN, -TOP)
                draw_ops(canvas, ops)
                canvas.restoreState()
                canvas.setFont(FONT, 7.5)
                canvas.setFillColor(GREY)
                canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN, f"page {number}/{total}")
                canvas.showPage()
            canvas.save()
        except Exception as exc:
            raise RenderError(f"PDF « {one_line(title)} » ({one_line(reference)}) impossible à produire: {exc}") from exc
        return buffer.getvalue()


def _lines_within(lines: list[tuple[str, TextStyle]], room: float) -> list[tuple[str, TextStyle]]:
    """The first of ``lines`` that fit ``room`` points of height."""
    used = 0.0
    for count, (_text, style) in enumerate(lines):
        used += style.leading
        if used > room:
            return lines[:count]
    return lines
