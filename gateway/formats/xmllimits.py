"""The gateway's own limits on an XML file's shape, checked before any costly step.

Two checks, both cheap next to what they protect (schema validation and its explanations, extraction):

- before the tree is built: the number of elements, from the bytes (every element starts with ``<``
  not followed by ``/``, ``!`` or ``?``, so counting those bounds it from above in a few passes of C);
  only a file past that bound is counted exactly, by a parser target that builds nothing
  (:class:`ElementCounter`, about 0.4 µs an element) and stops the parser once over. A 48 MB file of
  ``<a/>`` would otherwise become 12 million nodes (1.5 GB) before anything could look at it.
- right after parsing, in libxml2's XPath (C, linear): attributes per element, depth, the length of
  text nodes and attribute values. 200,000 attributes on one element are found here in milliseconds;
  xmlschema, which builds a repr of the element's attributes for each of its errors, would take hours.

Comments and processing instructions are dropped by the parser, which caps each at 10 MB (its own
limit, reported with the same code as a text too long, by :mod:`.safexml`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.codes import finding
from gateway.domain import Finding, Location
from gateway.formats.xsd import xpath_of

LIBXML2_MAX_DEPTH = 256  # without huge_tree; a configured depth above it is never reached
LIBXML2_MAX_TEXT = 10_000_000  # bytes per text node, comment or PI without huge_tree


@dataclass(frozen=True)
class XmlLimits:
    """What one XML file may not exceed (``[intake] xml_max_*`` in the configuration)."""

    max_elements: int = 2_000_000
    max_attributes: int = 64
    max_depth: int = 32
    max_text_chars: int = 1_048_576


def element_bound(data: bytes) -> int:
    """An upper bound of the number of elements, from the bytes alone."""
    return data.count(b"<") - data.count(b"</") - data.count(b"<!") - data.count(b"<?")


class TooManyElements(Exception):
    """Raised by :class:`ElementCounter` from inside the parser, which stops it at once."""


class ElementCounter:
    """A parser target that counts elements and builds nothing: no tree, so no memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def start(self, tag: str, attrib: object) -> None:
        self.count += 1
        if self.count > self.limit:
            raise TooManyElements

    def close(self) -> int:
        return self.count


def too_many_elements(limits: XmlLimits) -> Finding:
    return finding(
        "XML_TOO_MANY_ELEMENTS",
        f"Plus de {limits.max_elements} éléments dans le fichier : limite dépassée.",
        Location(),
        f"au plus {limits.max_elements} éléments par fichier",
    )


def after_parse(root: etree._Element, limits: XmlLimits, data: bytes = b"") -> Finding | None:
    """The first limit the parsed document exceeds, located; else None.

    Given the bytes, a scan their size alone proves needless is skipped: no element has more
    attributes than the file has ``=``, nor is deeper than its number of elements, and no text is
    longer than the file (most uploads are a few kilobytes). Each scan is linear in C.
    """
    small = bool(data)
    over_attributes = (
        []
        if small and data.count(b"=") <= limits.max_attributes
        else root.xpath(f"(//*[@*[{limits.max_attributes + 1}]])[1]")
    )
    if over_attributes:
        elem = over_attributes[0]
        count = len(elem.attrib)
        return finding(
            "XML_TOO_MANY_ATTRIBUTES",
            f"L'élément « {etree.QName(elem).localname} » porte {count} attributs : "
            f"limite de {limits.max_attributes} attributs par élément dépassée.",
            Location(line=elem.sourceline, xpath=xpath_of(elem)),
            f"au plus {limits.max_attributes} attributs par élément",
        )
    if limits.max_depth < LIBXML2_MAX_DEPTH and not (small and element_bound(data) <= limits.max_depth):
        deep = root.xpath("(/" + "/".join(["*"] * (limits.max_depth + 1)) + ")[1]")
        if deep:
            elem = deep[0]
            return finding(
                "XML_LIMIT_EXCEEDED",
                f"Imbrication de plus de {limits.max_depth} niveaux d'éléments : "
                "limite de profondeur dépassée.",
                Location(line=elem.sourceline),
                f"au plus {limits.max_depth} niveaux d'éléments",
            )
    n = limits.max_text_chars
    if small and len(data) <= n:
        return None
    long_text = root.xpath(f"(//text()[string-length() > {n}])[1]")
    if long_text:
        text = long_text[0]
        parent = text.getparent()  # the element whose text (or tail) it is
        return finding(
            "XML_LIMIT_EXCEEDED",
            f"Texte de {len(text)} caractères : limite de {n} caractères par texte dépassée.",
            Location(line=parent.sourceline if parent is not None else None),
            f"un texte d'au plus {n} caractères",
        )
    long_value = root.xpath(f"(//@*[string-length() > {n}])[1]")
    if long_value:
        value = long_value[0]
        elem = value.getparent()
        name = etree.QName(value.attrname).localname
        return finding(
            "XML_LIMIT_EXCEEDED",
            f"Valeur de {len(value)} caractères pour l'attribut « {name} » : "
            f"limite de {n} caractères par texte dépassée.",
            Location(line=elem.sourceline, xpath=f"{xpath_of(elem)}/@{name}"),
            f"un texte d'au plus {n} caractères",
        )
    return None
