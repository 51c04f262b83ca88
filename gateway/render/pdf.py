"""The PDF toolkit every document module uses: fonts, styles, safe text, tables and the page frame.

The one module of the renderers that builds ReportLab documents, two ways: :class:`Sheet` draws the
frequent documents (acknowledgement, declaration, payslip: tens of thousands a month) straight on the
canvas at computed positions, in a few milliseconds each; :func:`build` lays the rare ones out with
Platypus (mandate, statement, workforce, synthesis). Both use the same fonts, sizes, rules and page frame.
What it guarantees, both ways:

- the bundled DejaVu fonts are registered once per process (they draw every Latin name: Łukasz Żółć,
  Nguyễn, Ægir) and embedded as subsets;
- the same story gives the same bytes (ReportLab ``invariant``: fixed timestamps and document ID);
- text from data never becomes markup: :func:`para` escapes it before ReportLab parses it, table cells
  that are plain strings are drawn literally, and a :class:`Sheet` draws every string literally;
- every page carries the Caisses' name, the document title, the gateway reference and ``page X/Y``, and
  test documents a TEST watermark and banner.

Styles and fonts are built at import: a payslip run renders tens of thousands of documents per process.
"""

from __future__ import annotations

import copy
import io
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str, instanceStringWidthTTF
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap
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
from gateway.render.text import one_line

CAISSES = "Caisses Sociales de Monaco"
PRODUCER = "Passerelle de déclaration CSM"

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
_FONTS_DIR = Path(__file__).resolve().parent / "fonts"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
HEADER_HEIGHT = 16 * mm  # header band above the frame
FOOTER_HEIGHT = 9 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
FRAME_HEIGHT = PAGE_HEIGHT - 2 * MARGIN - HEADER_HEIGHT - FOOTER_HEIGHT

BLACK = colors.black
GREY = colors.Color(0.35, 0.35, 0.35)
LIGHT = colors.Color(0.90, 0.90, 0.90)
RULE = colors.Color(0.55, 0.55, 0.55)
WATERMARK = colors.Color(0.86, 0.86, 0.86)


class _CachedTTFont(TTFont):
    """A TrueType font whose subsets' PDF streams are made once per process.

    Embedding a subset means building a TrueType file of its glyphs (with DejaVu's 16 KB name table) and
    compressing it: about 1.2 ms per font and document, more than drawing a whole one-page document. The
    font program, its ToUnicode map and its widths are a pure function of the subset's characters, so they
    are kept (the last :data:`_SUBSET_CACHE_SIZE` subsets per font) and the bytes stay the same; so are the
    four objects' formatted bytes (:class:`_Once`), which differ between documents only by object numbers.
    Canvas documents start every subset with the same characters (:data:`SEED`), so nearly all share it.
    """

    def splitString(self, text: Any, doc: Any, encoding: str = "utf-8") -> list[tuple[int, bytes]]:
        """ReportLab's, with a shortcut for a sheet's document (its state made by :func:`_seeded_state`): a
        text whose characters all have a fixed code (:func:`_seed_codes`) is one chunk of subset 0, found
        by one ``str.translate`` instead of a loop over its characters. Same chunks either way."""
        if text and type(text) is str and getattr(self.state.get(doc), "seeded", False):
            try:
                return [(0, text.translate(_SEED_CODES[self.fontName]).encode("latin-1"))]
            except UnicodeEncodeError:
                pass
        return TTFont.splitString(self, text, doc, encoding)

    def addObjects(self, doc: Any) -> None:  # ReportLab 5's TTFont.addObjects, with the objects cached
        state = self.state.get(doc) or TTFont.State(self._asciiReadable)
        self.state[doc] = state
        state.frozen = 1
        cache: dict[tuple[Any, ...], _Subset] = self.__dict__.setdefault("_subsets", {})
        face = self.face
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_name = (b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX))).decode("pdfdoc")
            key = (base_name, bool(doc.compression), *subset)
            made = cache.get(key)
            if made is None:
                program = face.makeSubset(subset)
                cmap = makeToUnicodeCMap(base_name, subset).encode("latin-1")
                widths = _Formatted(pdfdoc.PDFArray(map(face.getCharWidth, subset)).format(doc))
                if doc.compression:
                    made = _Subset(widths, zlib.compress(cmap), zlib.compress(program), len(program), {})
                else:
                    made = _Subset(widths, cmap, program, len(program), {})
                if len(cache) >= _SUBSET_CACHE_SIZE:  # the oldest out (another thread may have taken it)
                    try:
                        cache.pop(next(iter(cache)), None)
                    except (StopIteration, RuntimeError):
                        pass
                cache[key] = made
            # The same four objects, registered in the same order, as ReportLab makes them; each formatted
            # once per subset (and per numbering of the objects it refers to), see _Once.
            memo = made.formatted
            cmap_name = "toUnicodeCMap:" + base_name
            program_name = f"fontFile:{face.filename}({base_name})"
            descriptor_name = "fontDescriptor:" + base_name
            doc.Reference(_Once(partial(_stream, made.cmap, doc), memo, ("cmap",)), cmap_name)
            doc.Reference(_Once(partial(_program, made, doc), memo, ("program",)), program_name)
            doc.Reference(_Once(partial(_descriptor, face, base_name, program_name), memo, ("descriptor",),
                                (program_name,)), descriptor_name)
            font = _Once(partial(_font_dict, internal_name, base_name, made.widths, len(subset), cmap_name,
                                 descriptor_name),
                         memo, ("font", internal_name), (cmap_name, descriptor_name))
            font.__Comment__ = f"Font {self.fontName} subset {n}"
            doc.Reference(font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = font
        del self.state[doc]


class _Subset(NamedTuple):
    """What a font subset embeds, made once: its widths, ToUnicode map and font program (compressed when
    the document is), and its objects as formatted by :class:`_Once`."""

    widths: pdfdoc.PDFObject
    cmap: bytes
    program: bytes
    program_length: int
    formatted: dict[tuple[Any, ...], bytes]


class _Once(pdfdoc.PDFObject):
    """An indirect object of a font subset, formatted once per process: ``make`` builds the ReportLab object
    the first time, its bytes are kept under ``key`` plus the numbers of the objects it refers to (``refs``,
    by name), which are all that can differ from one document to the next. The bytes are ReportLab's own.
    """

    __RefOnly__ = 1

    def __init__(self, make: Callable[[], Any], memo: dict[tuple[Any, ...], bytes], key: tuple[Any, ...],
                 refs: tuple[str, ...] = ()) -> None:
        self.make = make
        self.memo = memo
        self.key = key
        self.refs = refs

    def format(self, document: Any) -> bytes:
        if not isinstance(document.encrypt, pdfdoc.NoEncryption):  # encrypted bytes differ per document
            return pdfdoc.format(self.make(), document, toplevel=1)
        numbers = document.idToObjectNumberAndVersion
        key = (*self.key, *(numbers[name] for name in self.refs))
        data = self.memo.get(key)
        if data is None:
            data = pdfdoc.format(self.make(), document, toplevel=1)
            if len(self.memo) >= 64:  # a few numberings per subset in practice
                self.memo.clear()
            self.memo[key] = data
        return data


def _program(made: _Subset, doc: Any) -> Any:
    stream = _stream(made.program, doc)
    stream.dictionary["Length1"] = made.program_length
    return stream


def _descriptor(face: Any, base_name: str, program_name: str) -> Any:
    return pdfdoc.PDFDictionary(
        {
            "Type": "/FontDescriptor",
            "Ascent": face.ascent,
            "CapHeight": face.capHeight,
            "Descent": face.descent,
            "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(face.bbox),
            "FontName": pdfdoc.PDFName(base_name),
            "ItalicAngle": face.italicAngle,
            "StemV": face.stemV,
            "FontFile2": pdfdoc.PDFObjectReference(program_name),
            "MissingWidth": face.defaultWidth,
        }
    )


def _font_dict(internal_name: str, base_name: str, widths: Any, size: int, cmap_name: str,
               descriptor_name: str) -> Any:
    font = pdfdoc.PDFTrueTypeFont()
    font.Name = internal_name
    font.BaseFont = base_name
    font.FirstChar = 0
    font.LastChar = size - 1
    font.Widths = widths
    font.ToUnicode = pdfdoc.PDFObjectReference(cmap_name)
    font.FontDescriptor = pdfdoc.PDFObjectReference(descriptor_name)
    return font


_SUBSET_CACHE_SIZE = 32


class _Formatted(pdfdoc.PDFObject):
    """A PDF value formatted once (a subset's widths: 150 numbers formatted for every document otherwise)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, _document: Any) -> bytes:
        return self.data


def _stream(data: bytes, doc: Any) -> Any:
    """A PDF stream of ``data``, already Flate-compressed when the document is compressed."""
    stream = pdfdoc.PDFStream(content=data)
    if doc.compression:
        stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return stream


def _register_fonts() -> None:
    """Register DejaVu Sans (regular, bold) once; a second call is a no-op."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    try:
        pdfmetrics.registerFont(_CachedTTFont(FONT, str(_FONTS_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(_CachedTTFont(FONT_BOLD, str(_FONTS_DIR / "DejaVuSans-Bold.ttf")))
    except Exception as exc:  # ReportLab raises TTFError, OSError, ... : all mean "fonts unusable"
        raise RenderError(f"polices DejaVu introuvables ou illisibles dans {_FONTS_DIR}: {exc}") from exc
    # <b> inside a Paragraph needs the family to know its bold face.
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


_register_fonts()


def _memoize_pdfdoc_encoding() -> None:
    """ReportLab writes every name, number and object header of a PDF through ``pdfdoc.pdfdocEnc``, a
    codec written in Python: about a hundred calls and a tenth of a document's CPU, for strings that recur
    in every document (``/Type``, ``0 R``, widths). The encoding of a string never changes, so it is kept
    per process (bounded: emptied when full); the bytes are ReportLab's own. Done once, at import."""
    encode = pdfdoc.pdfdocEnc
    if getattr(encode, "memoized", False):
        return
    cache: dict[str, bytes] = {}

    def pdfdocEnc(x: Any) -> Any:
        if type(x) is not str:
            return encode(x)
        data = cache.get(x)
        if data is None:
            data = encode(x)
            if len(cache) >= 4096:
                cache.clear()
            cache[x] = data
        return data

    pdfdocEnc.memoized = True  # type: ignore[attr-defined]
    pdfdoc.pdfdocEnc = pdfdocEnc


_memoize_pdfdoc_encoding()

# The C accelerator makes string widths and paragraph layout several times cheaper; ReportLab falls back
# to pure Python silently, so say whether it is there (the benchmark prints it).
try:
    import _rl_accel  # noqa: F401

    ACCELERATED = True
except ImportError:  # pragma: no cover - depends on the installation
    ACCELERATED = False


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
) -> Table:
    """A ruled table with fixed column widths (so long names wrap instead of pushing columns off the page).

    Plain string cells are drawn literally (never parsed as markup) and do not wrap: use them for figures
    the gateway formats; put text from data in :func:`para` cells. Header strings become paragraphs so
    that a long column title wraps instead of running into its neighbour. ``right`` lists right-aligned columns,
    ``total_rows`` bolds the last rows, ``spans`` are ``(row, first_col, last_col)`` merged cells, ``keep_rows``
    ``(first_row, last_row)`` ranges kept on one page.
    """
    if sum(widths) > CONTENT_WIDTH + 0.5:
        raise RenderError(f"tableau trop large: {sum(widths):.0f} pt > {CONTENT_WIDTH:.0f} pt")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
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


def _page_decorator(title: str, reference: str, test: bool) -> Any:
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
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_page_decorator(title, reference, test))])
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

# Characters nearly every document uses beyond ASCII, put first into every font subset of a sheet so that
# the subset (and its cached font program, see _CachedTTFont) is the same from one document to the next.
SEED = "àâäçéèêëîïôöùûüÿœæÀÂÇÉÈÊËÎÔÙÛÜŒ«»€—–’…·•°↳\u202f"

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
    return list(_wrapped(text, font, size, width))


def _wrapped(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
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
                    lines += [(piece, style) for piece in _wrapped(text, style.font, style.size, room)]
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
            pdfmetrics.getFont(font).state[canvas._doc] = _seeded_state(font)
        decorate = _page_decorator(title, reference, test)
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
                _draw_ops(canvas, ops)
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


class _Seeded:
    """A stand-in document: the key of a font's subset state while :func:`_seed_codes` reads it."""


def _seed(font: Any) -> Any:
    """The font's subset state of a new document once :data:`SEED` is split into it."""
    probe = _Seeded()
    font.splitString(SEED, probe)
    return font.state.pop(probe)


# font name → its seeded state, copied into every sheet's document (as if it split SEED itself)
_SEEDED = {name: _seed(pdfmetrics.getFont(name)) for name in (FONT, FONT_BOLD)}


def _seeded_state(name: str) -> Any:
    """A copy of the seeded state of font ``name`` for a new document: what ``splitString(SEED, doc)``
    would leave there (it changes only the assignments, the subsets and the next code), without redoing it."""
    template = _SEEDED[name]
    state = copy.copy(template)
    state.assignments = dict(template.assignments)
    state.subsets = [list(subset) for subset in template.subsets]
    state.seeded = True  # see _CachedTTFont.splitString
    return state


def _seed_codes(name: str) -> dict[int, str]:
    """The code every character has in the first subset of a sheet's document, whatever the document:
    printable ASCII (ReportLab's ``asciiReadable`` first subset) and the :data:`SEED` characters split
    first by :meth:`Sheet.render`; the no-break space is drawn as a space, like ``splitString`` does.

    A ``str.translate`` table to those codes (as characters below 256): every other character below 256
    becomes U+FFFF, so a text translates to Latin-1 only if all its characters have a fixed code."""
    assignments = _SEEDED[name].assignments
    table = {code: chr(n) for code, n in assignments.items() if 32 <= code and n < 256}
    table[0xA0] = chr(assignments[32])
    for code in range(256):
        table.setdefault(code, "\uffff")
    return table


# font name → translate table to subset 0 of the characters whose code is the same in every document
_SEED_CODES = {name: _seed_codes(name) for name in (FONT, FONT_BOLD)}

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
    table = _SEED_CODES.get(name)  # None: not one of the sheet fonts, no fixed codes
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


def _draw_ops(canvas: Canvas, ops: Sequence[tuple[Any, ...]]) -> None:
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
