"""Documents laid out with Platypus (the rare ones: mandate, statement, workforce, synthesis): styles, safe
paragraphs, tables, key-value blocks and the page frame (:func:`build`).

Text from data never becomes markup: :func:`para` escapes it before ReportLab parses it, and table cells that
are plain strings are drawn literally. Every page carries the Caisses' name, the document title, the gateway
reference and ``page X/Y``; test documents a TEST watermark and banner.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepInFrame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from gateway.errors import RenderError
from gateway.render.fonts import (
    CAISSES,
    CONTENT_WIDTH,
    FONT,
    FONT_BOLD,
    FOOTER_HEIGHT,
    FRAME_HEIGHT,
    GREY,
    HEADER_HEIGHT,
    LIGHT,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PRODUCER,
    RULE,
    WATERMARK,
)
from gateway.render.text import one_line


def _style(name: str, size: float = 8.5, **kw: Any) -> ParagraphStyle:
    kw.setdefault("fontName", FONT)
    kw.setdefault("leading", size * 1.22)
    return ParagraphStyle(name, fontSize=size, splitLongWords=1, **kw)


BODY = _style("body", 9, spaceAfter=2)
SMALL = _style("small", 7.5, textColor=GREY)
TITLE = _style("title", 15, fontName=FONT_BOLD, spaceAfter=3)
H2 = _style("h2", 11, fontName=FONT_BOLD, spaceBefore=8, spaceAfter=4)
H3 = _style("h3", 9.5, fontName=FONT_BOLD, spaceBefore=5, spaceAfter=3)
STRONG = _style("strong", 10, fontName=FONT_BOLD)
BIG = _style("big", 13, fontName=FONT_BOLD, leading=17)
CELL = _style("cell", 8)
CELL_BOLD = _style("cell-bold", 8, fontName=FONT_BOLD)
CELL_RIGHT = _style("cell-right", 8, alignment=TA_RIGHT)
CELL_SMALL = _style("cell-small", 7, textColor=GREY)
CELL_REF = _style("cell-ref", 7)  # gateway references: long, unbreakable
HEAD = _style("head", 7, fontName=FONT_BOLD)
HEAD_RIGHT = _style("head-right", 7, fontName=FONT_BOLD, alignment=TA_RIGHT)
CENTERED = _style("centered", 8, alignment=TA_CENTER)


def para(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph showing ``text`` literally: escaped, so ``<b>`` or ``&`` from a file is just text."""
    return Paragraph(escape(one_line(text)), style)


def heading(text: str, style: ParagraphStyle = H2) -> list[Flowable]:
    """A section title that never ends a page alone: a new page first when less than 30 mm remain.

    (ReportLab's keepWithNext would move a whole long table to the next page, leaving a blank one.)
    """
    return [CondPageBreak(30 * mm), para(text, style)]


def labelled(label: str, value: object, style: ParagraphStyle = BODY) -> Paragraph:
    """``label`` in bold followed by ``value``; both escaped."""
    return Paragraph(f"<b>{escape(one_line(label))}</b> {escape(one_line(value))}", style)


def lines(texts: Sequence[object], style: ParagraphStyle = BODY, *, bold_first: bool = False) -> Paragraph:
    """Several texts on separate lines of one paragraph; each escaped."""
    parts = [escape(one_line(t)) for t in texts]
    if bold_first and parts:
        parts[0] = f"<b>{parts[0]}</b>"
    return Paragraph("<br/>".join(parts), style)


def with_detail(main: object, detail: object | None, style: ParagraphStyle = BODY) -> Paragraph:
    """``main`` and, on the next line in small grey, ``detail`` (a code, an XPath); both escaped."""
    markup = escape(one_line(main))
    if detail:
        markup += f'<br/><font size="{style.fontSize - 1}" color="#595959">{escape(one_line(detail))}</font>'
    return Paragraph(markup, style)


Cell = str | Flowable


def table(
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    right: Sequence[int] = (),
    total_rows: int = 0,
    spans: Sequence[tuple[int, int, int]] = (),
    shaded_rows: Sequence[int] = (),
    keep_rows: Sequence[tuple[int, int]] = (),
    unruled_rows: Sequence[int] = (),
) -> Table:
    """A ruled table with fixed column widths (so long names wrap instead of pushing columns off the page).

    Plain string cells are drawn literally (never parsed as markup) and do not wrap: use them for figures
    the gateway formats; put text from data in :func:`para` cells. Header strings become paragraphs so
    that a long column title wraps instead of running into its neighbour. ``right`` lists right-aligned columns,
    ``total_rows`` bolds the last rows, ``spans`` are ``(row, first_col, last_col)`` merged cells, ``keep_rows``
    ``(first_row, last_row)`` ranges kept on one page, ``unruled_rows`` the rows with no rule below them (a line
    and the detail lines under it read as one block).
    """
    if sum(widths) > CONTENT_WIDTH + 0.5:
        raise RenderError(f"tableau trop large: {sum(widths):.0f} pt > {CONTENT_WIDTH:.0f} pt")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if unruled_rows:
        unruled = set(unruled_rows)
        commands += [("LINEBELOW", (0, r), (-1, r), 0.25, RULE) for r in range(len(rows)) if r not in unruled]
    else:
        commands.append(("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE))
    if header_rows:
        commands += [
            ("FONT", (0, 0), (-1, header_rows - 1), FONT_BOLD, 7.5),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), LIGHT),
            ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, colors.black),
            ("VALIGN", (0, 0), (-1, header_rows - 1), "BOTTOM"),
        ]
    for col in right:
        commands.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    if total_rows:
        commands += [
            ("FONT", (0, -total_rows), (-1, -1), FONT_BOLD, 8),
            ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.8, colors.black),
        ]
    for row, first, last in spans:
        commands.append(("SPAN", (first, row), (last, row)))
    for row in shaded_rows:
        commands.append(("BACKGROUND", (0, row), (-1, row), LIGHT))
    for first, last in keep_rows:  # e.g. an employee and its events: never split across pages
        commands.append(("NOSPLIT", (0, first), (-1, last)))
    data = [list(r) for r in rows]
    for row in data[:header_rows]:
        for col, value in enumerate(row):
            if isinstance(value, str) and value:
                row[col] = para(value, HEAD_RIGHT if col in right else HEAD)
    return Table(
        data,
        colWidths=list(widths),
        repeatRows=header_rows,
        style=TableStyle(commands),
        hAlign="LEFT",
    )


def key_values(pairs: Sequence[tuple[str, object]], widths: tuple[float, float] = (40 * mm, 0)) -> Table:
    """Label / value lines without rules: the identity block at the top of a document."""
    label_width = widths[0]
    value_width = widths[1] or CONTENT_WIDTH - label_width
    rows = [[para(k, CELL_BOLD), v if isinstance(v, Flowable) else para(v, CELL)] for k, v in pairs]
    return Table(
        rows,
        colWidths=[label_width, value_width],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),  # a Table sets its font even for paragraph cells
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
        hAlign="LEFT",
    )


class _NumberedCanvas(Canvas):
    """Keeps every page until the end so each can say ``page X/Y`` (the total is known only then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(GREY)
            self.drawRightString(PAGE_WIDTH - MARGIN, MARGIN, f"page {number}/{total}")
            super().showPage()
        super().save()


def _clip(text: str, font: str, size: float, width: float) -> str:
    """Cut ``text`` with an ellipsis so it fits ``width`` (headers are single lines)."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def page_decorator(title: str, reference: str, test: bool) -> Any:
    title = one_line(title)
    ref_text = f"Réf. {one_line(reference)}"
    footer = f"{PRODUCER} — {title}"

    def decorate(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        canvas.saveState()
        if test:
            # Behind everything: drawn first, light grey, across the page.
            canvas.setFillColor(WATERMARK)
            canvas.setFont(FONT_BOLD, 120)
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, -40, "TEST")
            canvas.rotate(-45)
            canvas.translate(-PAGE_WIDTH / 2, -PAGE_HEIGHT / 2)
        top = PAGE_HEIGHT - MARGIN
        canvas.setFillColor(colors.black)
        canvas.setFont(FONT_BOLD, 10)
        canvas.drawString(MARGIN, top - 10, CAISSES)
        ref_width = pdfmetrics.stringWidth(ref_text, FONT_BOLD, 10)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 10, ref_text)
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, top - 22, _clip(title, FONT, 8.5, CONTENT_WIDTH - ref_width - 10))
        if test:
            canvas.setFillColor(colors.black)
            canvas.setFont(FONT_BOLD, 8.5)
            canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 22, "DOCUMENT DE TEST — sans valeur")
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.6)
        canvas.line(MARGIN, top - 27, PAGE_WIDTH - MARGIN, top - 27)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.3)
        canvas.line(MARGIN, MARGIN + 9, PAGE_WIDTH - MARGIN, MARGIN + 9)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN, _clip(footer, FONT, 7.5, CONTENT_WIDTH - 60))
        canvas.restoreState()

    return decorate


def build(
    story: Sequence[Flowable],
    *,
    title: str,
    reference: str,
    test: bool = False,
    subject: str = "",
    one_page: bool = False,
) -> bytes:
    """Lay ``story`` out on A4 pages with the header and footer, and return the PDF bytes.

    ``one_page`` shrinks the whole story to fit a single page (a payslip is one page whatever its length).
    Deterministic: the same story, title and reference give the same bytes.
    """
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_HEIGHT,
        bottomMargin=MARGIN + FOOTER_HEIGHT,
        title=one_line(f"{title} — {reference}"),
        author=CAISSES,
        subject=one_line(subject or title),
        creator=PRODUCER,
        invariant=1,  # fixed CreationDate/ModDate and a content-derived document ID
        pageCompression=1,
        lang="fr-FR",
        initialFontName=FONT,  # otherwise every page also references Helvetica, a font that is not embedded
    )
    frame = Frame(
        doc.leftMargin, doc.bottomMargin, CONTENT_WIDTH, FRAME_HEIGHT, id="body", leftPadding=0,
        rightPadding=0, topPadding=0, bottomPadding=0,
    )  # fmt: skip
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=page_decorator(title, reference, test))])
    flowables = list(story)
    if one_page:
        flowables = [KeepInFrame(CONTENT_WIDTH, FRAME_HEIGHT, flowables, mode="shrink")]
    try:
        doc.build(flowables, canvasmaker=_NumberedCanvas)
    except RenderError:
        raise
    except Exception as exc:  # ReportLab's LayoutError, ValueError on bad markup...: a document we cannot make
        raise RenderError(f"PDF « {one_line(title)} » ({one_line(reference)}) impossible à produire: {exc}") from exc
    return buffer.getvalue()
