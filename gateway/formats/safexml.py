"""Safe parsing of untrusted XML bytes.

Defences, in order: the size limit is checked by the caller before anything else; compressed bytes are
refused (libxml2 would inflate gzip if ever given a path, so we only ever give it bytes); NUL bytes and
any encoding other than UTF-8 are refused (so a mis-declared encoding cannot turn into silent mojibake);
a DOCTYPE is refused before libxml2 sees it, which rules out entity expansion (billion laughs, quadratic
blowup), external entities (XXE) and external DTDs in one stroke. The parser itself is configured as a
second line: no DTD loading, no entity substitution, no network, processing instructions dropped,
``huge_tree`` off so libxml2 keeps its depth (256) and text-node (10 MB) limits. XInclude is never
processed (we never call ``xinclude()``); ``xsi:schemaLocation`` hints are never followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from gateway.domain import Finding, Location
from gateway.formats.codes import finding

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
_PROLOG_LIMIT = 1 << 16  # a legitimate prolog is short; past this we let libxml2 judge
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


def _parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers are not thread-safe and keep an error log.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        remove_pis=True,
        remove_comments=True,
        huge_tree=False,
        collect_ids=False,
        strip_cdata=True,
    )


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
            line, col = line_col(data, pos)
            return [
                finding(
                    "XML_DOCTYPE_FORBIDDEN",
                    "Déclaration DOCTYPE interdite (pas de DTD ni d'entités).",
                    Location(line=line, column=col),
                    "aucune déclaration DOCTYPE",
                )
            ], []
        else:
            break
    return [], warnings


def parse(data: bytes) -> Parsed | list[Finding]:
    """Parse untrusted bytes: the document, or the findings that refuse it (never an exception)."""
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
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return [_syntax_finding(exc)]
    except (ValueError, etree.LxmlError) as exc:  # lxml refuses some inputs outright
        return [finding("XML_NOT_WELL_FORMED", f"XML mal formé: {exc}", Location(line=1))]
    if root is None:
        return [finding("XML_NOT_WELL_FORMED", "Document XML vide.", Location(line=1), "un élément racine")]
    doctype = root.getroottree().docinfo.doctype
    if doctype:  # belt and braces: the prescan should have caught it
        return [
            finding(
                "XML_DOCTYPE_FORBIDDEN",
                "Déclaration DOCTYPE interdite (pas de DTD ni d'entités).",
                Location(line=1),
                "aucune déclaration DOCTYPE",
            )
        ]
    return Parsed(root, tuple(warnings))


def _syntax_finding(exc: etree.XMLSyntaxError) -> Finding:
    line, col = exc.position if exc.position else (exc.lineno, None)
    location = Location(line=line or None, column=col or None)
    message = (exc.msg or "").split(", line ")[0].strip()
    if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT or "XML_PARSE_HUGE" in message:
        what = "profondeur d'imbrication" if "depth" in message.lower() else "taille d'un texte"
        expected = (
            "au plus 256 niveaux d'éléments" if "depth" in message.lower() else "un texte de moins de 10 Mo"
        )
        return finding("XML_LIMIT_EXCEEDED", f"Limite de {what} dépassée.", location, expected)
    if exc.code == etree.ErrorTypes.ERR_INVALID_ENCODING or "encoding" in message.lower():
        return finding(
            "XML_ENCODING_INVALID", "Octets invalides pour l'encodage UTF-8.", location, "UTF-8 valide"
        )
    return finding("XML_NOT_WELL_FORMED", f"XML mal formé: {message}", location)


def xinclude_elements(root: etree._Element) -> list[etree._Element]:
    """XInclude elements in the document (never processed; reported so the refusal is clear)."""
    return list(root.iter(f"{{{XINCLUDE_NS}}}*"))
