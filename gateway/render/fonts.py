"""The PDF primitives every document shares: the bundled DejaVu fonts (registered once per process, embedded
as subsets whose first subset is the same in every document), the page geometry, the colours and the names
on every page. Built at import: a payslip run renders tens of thousands of documents per process.

- the bundled DejaVu fonts draw every Latin name (Łukasz Żółć, Nguyễn, Ægir) and are embedded as subsets;
- the same story gives the same bytes (ReportLab ``invariant``: fixed timestamps and document ID).
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap

from gateway.errors import RenderError

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
        """ReportLab's, with a shortcut for a sheet's document (its state made by :func:`seeded_state`): a
        text whose characters all have a fixed code (:func:`_seed_codes`) is one chunk of subset 0, found
        by one ``str.translate`` instead of a loop over its characters. Same chunks either way."""
        if text and type(text) is str and getattr(self.state.get(doc), "seeded", False):
            try:
                return [(0, text.translate(SEED_CODES[self.fontName]).encode("latin-1"))]
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


# Characters nearly every document uses beyond ASCII, put first into every font subset of a sheet so that
# the subset (and its cached font program, see _CachedTTFont) is the same from one document to the next.
SEED = "àâäçéèêëîïôöùûüÿœæÀÂÇÉÈÊËÎÔÙÛÜŒ«»€—–’…·•°↳\u202f"


class _Seeded:
    """A stand-in document: the key of a font's subset state while :func:`_seed_codes` reads it."""


def _seed(font: Any) -> Any:
    """The font's subset state of a new document once :data:`SEED` is split into it."""
    probe = _Seeded()
    font.splitString(SEED, probe)
    return font.state.pop(probe)


# font name → its seeded state, copied into every sheet's document (as if it split SEED itself)
_SEEDED = {name: _seed(pdfmetrics.getFont(name)) for name in (FONT, FONT_BOLD)}


def seeded_state(name: str) -> Any:
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
SEED_CODES = {name: _seed_codes(name) for name in (FONT, FONT_BOLD)}
