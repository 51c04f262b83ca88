"""Safe parsing of untrusted XML bytes.

Defences, in order: the size limit is checked by the caller before anything else; compressed bytes are
refused (libxml2 would inflate gzip if ever given a path, so we only ever give it bytes); NUL bytes and
any encoding other than UTF-8 are refused (so a mis-declared encoding cannot turn into silent mojibake);
a DOCTYPE in the first 64 KiB is refused before libxml2 sees it, with its exact place.

The parser itself is the line that holds whatever the prescan missed (a DOCTYPE after 1 MB of comments):
no DTD loading, no entity substitution, no network, a resolver that refuses every external resource, and
the ID collection left on (see :func:`_parser`), so libxml2 opens no file and no URL; a DOCTYPE it read
is then refused from ``docinfo``. Processing instructions and comments are dropped; ``huge_tree`` is off
so libxml2 keeps its depth (256) and text-node, comment and PI (10 MB) limits, reported as limits. The
gateway's own, lower limits (elements, attributes, depth, text) are in :mod:`.xmllimits`. XInclude is
never processed (we never call ``xinclude()``); ``xsi:schemaLocation`` hints are never followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from gateway.codes import finding
from gateway.domain import Finding, Location
from gateway.formats import xmllimits
from gateway.formats.xmllimits import XmlLimits

UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
}
_XML_DECL = re.compile(rb"<\?xml\s[^>]{0,200}?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']{0,40})["']""")
_PROLOG_LIMIT = 1 << 16  # a legitimate prolog is short; past this the parser itself refuses a DOCTYPE
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"


def compressed_kind(data: bytes) -> str | None:
    """The compression or archive format the bytes start with, if any."""
    for magic, kind in _COMPRESSED.items():
        if data.startswith(magic):
            return kind
    return None


def looks_like_xml(data: bytes) -> bool:
    """The first non-blank character (after a BOM) is ``<``."""
    head = data[:1024]
    if head.startswith(UTF8_BOM):
        head = head[3:]
    return head.lstrip(b" \t\r\n").startswith(b"<") or any(data.startswith(b) for b in _OTHER_BOMS)


def line_col(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


@dataclass(frozen=True)
class Parsed:
    """A parsed document and the warnings found on the way (processing instructions dropped)."""

    root: etree._Element
    warnings: tuple[Finding, ...] = ()


class _Refused(Exception):
    """An external resource (DTD, entity) the parser asked for; never fetched."""


class _RefuseAll(etree.Resolver):
    """Every external resource is refused before libxml2 opens anything (a FIFO would hang the worker)."""

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> Any:
        raise _Refused(system_url or public_id or "?")


def _parser(target: object | None = None) -> etree.XMLParser:
    # A new parser per document: lxml parsers are not thread-safe and keep an error log.
    # collect_ids stays True: with libxml2 before 2.15, lxml implements collect_ids=False by setting
    # XML_SKIP_IDS in ctxt->loadsubset, and libxml2 loads the external DTD subset whenever loadsubset is
    # non-zero, load_dtd=False notwithstanding (seen with strace: openat of the DOCTYPE's SYSTEM file).
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        remove_pis=True,
        remove_comments=True,
        huge_tree=False,
        collect_ids=True,
        strip_cdata=True,
        target=target,
    )
    parser.resolvers.add(_RefuseAll())
    return parser


def _prescan(data: bytes) -> tuple[list[Finding], list[Finding]]:
    """Refusals and warnings found before libxml2 runs: encodings, NUL bytes, DOCTYPE, prolog PIs."""
    if any(data.startswith(b) for b in _OTHER_BOMS):
        return [
            finding(
                "XML_ENCODING_UNSUPPORTED",
                "Encodage UTF-16 ou UTF-32 non pris en charge.",
                Location(line=1, column=1),
                "UTF-8",
            )
        ], []
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = line_col(data, nul)
        return [
            finding(
                "XML_NUL_BYTE",
                "Octet nul (0x00) dans le fichier.",
                Location(line=line, column=col),
                "aucun octet nul",
            )
        ], []
    pos = 3 if data.startswith(UTF8_BOM) else 0
    decl = _XML_DECL.match(data, pos)
    if decl:
        enc = _ENCODING.search(decl.group(0))
        if enc and enc.group(1).decode("ascii", "replace").strip().lower() not in ("utf-8", "utf8"):
            name = enc.group(1).decode("ascii", "replace")
            return [
                finding(
                    "XML_ENCODING_UNSUPPORTED",
                    f"Encodage déclaré « {name} » non pris en charge.",
                    Location(line=1, column=decl.start(0) + enc.start(1) + 1),
                    "UTF-8",
                )
            ], []
        pos = decl.end()
    warnings: list[Finding] = []
    # Walk the prolog: blanks, comments and processing instructions until the first element.
    end = min(len(data), _PROLOG_LIMIT)
    while pos < end:
        while pos < end and data[pos] in b" \t\r\n":
            pos += 1
        if data.startswith(b"<!--", pos):
            close = data.find(b"-->", pos + 4)
            if close < 0:
                break
            pos = close + 3
        elif data.startswith(b"<?", pos):
            close = data.find(b"?>", pos + 2)
            if close < 0:
                break
            target = re.match(rb"<\?([^\s?]{0,40})", data[pos : pos + 50])
            name = target.group(1).decode("utf-8", "replace") if target else "?"
            line, col = line_col(data, pos)
            warnings.append(
                finding(
                    "XML_PI_IGNORED",
                    f"Instruction de traitement « {name} » ignorée.",
                    Location(line=line, column=col),
                )
            )
            pos = close + 2
        elif data[pos : pos + 9].upper() == b"<!DOCTYPE":
            return [doctype_forbidden(data, pos)], []
        else:
            break
    return [], warnings


DEFAULT_LIMITS = XmlLimits()


def parse(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> Parsed | list[Finding]:
    """Parse untrusted bytes: the document, or the findings that refuse it (never an exception).

    Nothing costly runs on a document over one of ``limits``: it is refused with the limit's code.
    """
    kind = compressed_kind(data)
    if kind:
        return [
            finding(
                "FILE_COMPRESSED",
                f"Fichier compressé ({kind}) : envoyez le fichier XML ou CSV lui-même.",
                Location(line=1, column=1),
                "XML ou CSV non compressé",
            )
        ]
    refusals, warnings = _prescan(data)
    if refusals:
        return refusals
    if xmllimits.element_bound(data) > limits.max_elements:  # else the bytes alone prove it within
        try:
            etree.fromstring(data, _parser(xmllimits.ElementCounter(limits.max_elements)))
        except xmllimits.TooManyElements:
            return [xmllimits.too_many_elements(limits)]
        except (_Refused, ValueError, etree.LxmlError):
            pass  # not well formed, or a DOCTYPE: the parse below says so with its own code
    try:
        root = etree.fromstring(data, _parser())
    except _Refused:  # only a DOCTYPE can make libxml2 ask for an external resource
        return [doctype_forbidden(data)]
    except etree.XMLSyntaxError as exc:
        if "amplification" in (exc.msg or ""):  # entity references: only a DOCTYPE declares entities
            return [doctype_forbidden(data)]
        return [_syntax_finding(exc)]
    except (ValueError, etree.LxmlError) as exc:  # lxml refuses some inputs outright
        return [finding("XML_NOT_WELL_FORMED", f"XML mal formé: {exc}", Location(line=1))]
    if root is None:
        return [finding("XML_NOT_WELL_FORMED", "Document XML vide.", Location(line=1), "un élément racine")]
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return [doctype_forbidden(data)]  # past the prescan's reach: the parser read it, nothing else
    over = xmllimits.after_parse(root, limits, data)
    if over:
        return [over]
    return Parsed(root, tuple(warnings))


def doctype_forbidden(data: bytes, offset: int | None = None) -> Finding:
    """The refusal of a DOCTYPE, at ``offset`` or else at the first ``<!DOCTYPE`` in the bytes."""
    if offset is None:
        found = data.find(b"<!DOCTYPE")
        offset = found if found >= 0 else None
    line, col = line_col(data, offset) if offset is not None else (1, None)
    return finding(
        "XML_DOCTYPE_FORBIDDEN",
        "Déclaration DOCTYPE interdite (pas de DTD ni d'entités).",
        Location(line=line, column=col),
        "aucune déclaration DOCTYPE",
    )


def _syntax_finding(exc: etree.XMLSyntaxError) -> Finding:
    line, col = exc.position if exc.position else (exc.lineno, None)
    location = Location(line=line or None, column=col or None)
    message = (exc.msg or "").split(", line ")[0].strip()
    limit = _parser_limit(exc.code, message)
    if limit:
        return finding("XML_LIMIT_EXCEEDED", limit[0], location, limit[1])
    if exc.code == etree.ErrorTypes.ERR_INVALID_ENCODING or "encoding" in message.lower():
        return finding(
            "XML_ENCODING_INVALID", "Octets invalides pour l'encodage UTF-8.", location, "UTF-8 valide"
        )
    return finding("XML_NOT_WELL_FORMED", f"XML mal formé: {message}", location)


_TOO_BIG = {  # libxml2's "... too big found" errors (huge_tree off), by what was too big
    etree.ErrorTypes.ERR_COMMENT_NOT_FINISHED: "un commentaire",
    etree.ErrorTypes.ERR_PI_NOT_FINISHED: "une instruction de traitement",
    etree.ErrorTypes.ERR_CDATA_NOT_FINISHED: "une section CDATA",
}


def _parser_limit(code: int, message: str) -> tuple[str, str] | None:
    """The message and "expected" of one of libxml2's own limits (huge_tree off), if the error is one."""
    ten_mb = f"au plus {xmllimits.LIBXML2_MAX_TEXT} octets"
    if code in _TOO_BIG and "too big" in message:  # the same codes also mean "not closed"
        return f"Limite de l'analyseur dépassée : {_TOO_BIG[code]} de plus de 10 Mo.", ten_mb
    if code == etree.ErrorTypes.ERR_RESOURCE_LIMIT or "XML_PARSE_HUGE" in message:
        if "depth" in message.lower():
            depth = xmllimits.LIBXML2_MAX_DEPTH
            return (
                f"Imbrication de plus de {depth} niveaux d'éléments : limite de profondeur dépassée.",
                f"au plus {depth} niveaux d'éléments",
            )
        return "Limite de l'analyseur dépassée : un texte ou une valeur de plus de 10 Mo.", ten_mb
    return None


def xinclude_elements(root: etree._Element) -> list[etree._Element]:
    """XInclude elements in the document (never processed; reported so the refusal is clear)."""
    return list(root.iter(f"{{{XINCLUDE_NS}}}*"))
