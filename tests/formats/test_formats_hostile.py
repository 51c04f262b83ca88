"""Hostile and broken XML: each refused with its documented code, quickly, touching nothing outside itself."""

from __future__ import annotations

import time

import pytest
from conftest import CANARY_TEXT, HOSTILE, Canary
from lxml import etree

from gateway import formats
from gateway.domain import ReadResult
from gateway.formats import safexml

# file in tests/formats/hostile → the code it must be refused with (or warned with, when accepted)
CORPUS = {
    "billion-laughs.xml": "XML_DOCTYPE_FORBIDDEN",
    "xxe-file.xml": "XML_DOCTYPE_FORBIDDEN",
    "xxe-http.xml": "XML_DOCTYPE_FORBIDDEN",
    "parameter-entities.xml": "XML_DOCTYPE_FORBIDDEN",
    "external-dtd.xml": "XML_DOCTYPE_FORBIDDEN",
    "external-dtd-file.xml": "XML_DOCTYPE_FORBIDDEN",
    "xinclude.xml": "XML_XINCLUDE_FORBIDDEN",
    "wrong-declared-encoding.xml": "XML_ENCODING_UNSUPPORTED",
    "latin1-bytes-declared-utf8.xml": "XML_ENCODING_INVALID",
    "utf16.xml": "XML_ENCODING_UNSUPPORTED",
    "nul-byte.xml": "XML_NUL_BYTE",
    "truncated.xml": "XML_NOT_WELL_FORMED",
    "gzip-named.xml": "FILE_COMPRESSED",
    "unknown-root.xml": "FILE_UNKNOWN_KIND",
    "future-version.xml": "FILE_UNSUPPORTED_VERSION",
    "no-namespace.xml": "FILE_UNKNOWN_KIND",
}
# Accepted, with the dangerous part ignored: the PI dropped (with a warning), the schema hints unused.
ACCEPTED = {"xml-stylesheet.xml": "XML_PI_IGNORED", "schema-location.xml": None}


def _read(canary: Canary, data: bytes, name: str, **limits: int) -> ReadResult:
    start = time.perf_counter()
    result = formats.read(data, name, formats.Limits(**limits) if limits else None)
    assert time.perf_counter() - start < 5, "a hostile file must be dealt with quickly"
    assert canary.hits == [], f"the canary server was contacted: {canary.hits}"
    for f in result.findings:
        assert CANARY_TEXT not in f.message and CANARY_TEXT not in (f.expected or "")
    return result


def test_corpus_is_complete() -> None:
    on_disk = {p.name for p in HOSTILE.iterdir()}
    assert on_disk == set(CORPUS) | set(ACCEPTED)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_file_refused_with_its_code(canary: Canary, name: str) -> None:
    result = _read(canary, canary.fill((HOSTILE / name).read_bytes()), name)
    assert result.value is None
    assert result.findings[0].code == CORPUS[name], result.findings
    assert result.findings[0].location.line is not None or result.findings[0].code.startswith("FILE_")


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_dangerous_hints_ignored(canary: Canary, name: str) -> None:
    result = _read(canary, canary.fill((HOSTILE / name).read_bytes()), name)
    assert result.ok, result.findings
    assert [f.code for f in result.findings] == ([ACCEPTED[name]] if ACCEPTED[name] else [])


@pytest.mark.parametrize("name", sorted(n for n, c in CORPUS.items() if c == "XML_DOCTYPE_FORBIDDEN"))
def test_parser_alone_resolves_nothing(canary: Canary, name: str) -> None:
    """Second line of defence: even past the DOCTYPE check, the parser loads no entity, file or URL."""
    data = canary.fill((HOSTILE / name).read_bytes())
    try:
        root = etree.fromstring(data, safexml._parser())
    except etree.XMLSyntaxError:
        root = None
    assert canary.hits == []
    if root is not None:
        assert CANARY_TEXT not in etree.tostring(root, encoding="unicode")
        assert "lollollol" not in etree.tostring(root, encoding="unicode")


def test_quadratic_blowup(canary: Canary) -> None:
    entity = "x" * 50_000
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE declarations [<!ENTITY a "{entity}">]>\n'
        f'<declarations xmlns="urn:csm-gateway:declaration:1">{"&a;" * 50_000}</declarations>'
    ).encode()
    assert _read(canary, data, "quadratic.xml").findings[0].code == "XML_DOCTYPE_FORBIDDEN"


def test_deep_nesting(canary: Canary) -> None:
    data = b'<declarations xmlns="urn:csm-gateway:declaration:1">' + b"<a>" * 100_000 + b"</a>" * 100_000
    data += b"</declarations>"
    f = _read(canary, data, "deep.xml").findings[0]
    assert f.code == "XML_LIMIT_EXCEEDED" and f.location.line == 1 and f.location.column


def test_huge_text_node(canary: Canary) -> None:
    data = (
        b'<declarations xmlns="urn:csm-gateway:declaration:1">'
        + b"x" * (11 * 1024 * 1024)
        + b"</declarations>"
    )
    assert _read(canary, data, "huge.xml").findings[0].code == "XML_LIMIT_EXCEEDED"


def test_over_the_size_limit_refused_without_parsing(canary: Canary, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a file over the size limit")

    monkeypatch.setattr(safexml, "parse", boom)
    data = b"<declarations>" + b" " * 2000 + b"</declarations>"
    result = _read(canary, data, "big.xml", max_file_bytes=1000)
    assert [f.code for f in result.findings] == ["FILE_TOO_LARGE"]
    # Callers can also give the size on disk and no bytes at all.
    assert formats.read(b"", "big.xml", formats.Limits(max_file_bytes=1000), size=5000).findings[0].code == (
        "FILE_TOO_LARGE"
    )


def test_nul_and_not_well_formed_are_located(canary: Canary) -> None:
    nul = _read(canary, (HOSTILE / "nul-byte.xml").read_bytes(), "x.xml").findings[0]
    assert (nul.location.line, nul.location.column) == (2, 53)
    bad = _read(canary, (HOSTILE / "latin1-bytes-declared-utf8.xml").read_bytes(), "x.xml").findings[0]
    assert bad.location.line == 2


def test_empty_files(canary: Canary) -> None:
    for data in (b"", b" \n\t", b"\xef\xbb\xbf\n"):
        assert [f.code for f in _read(canary, data, "x.xml").findings] == ["FILE_EMPTY"]


def test_zip_and_other_archives(canary: Canary) -> None:
    assert _read(canary, b"PK\x03\x04rest", "x.xml").findings[0].code == "FILE_COMPRESSED"
    assert _read(canary, b"BZh91AY&SY", "x.csv").findings[0].code == "FILE_COMPRESSED"
