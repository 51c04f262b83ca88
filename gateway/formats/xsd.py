"""The bundled XML schemas: loaded once from local files, lxml gives the verdict, xmlschema the details.

lxml (libxml2) validates a 50,000-employee file in a fraction of a second but its messages are terse;
xmlschema is slower but says where and what was expected, so it only runs on files lxml found invalid.
Neither may touch the network or the file system beyond the ``schemas/`` folder: the schemas are parsed
from bytes with a resolver that refuses everything, and instance location hints are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from gateway.codes import MAX_FINDINGS, finding
from gateway.domain import Finding, Location
from gateway.errors import SchemaError

SCHEMA_FILES = {"declaration": "declaration-1.xsd", "payslip": "payslip-1.xsd"}
ISO20022_DIR = "iso20022"  # the official ISO 20022 schemas of the bank's messages, unchanged (see its README)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# What built-in XSD types mean to a vendor, for "attendu".
_BUILTIN_EXPECTED = {
    "dateTime": "date et heure ISO 8601, par exemple 2026-11-21T09:15:00+01:00",
    "date": "date AAAA-MM-JJ",
    "boolean": "true ou false",
}


def schemas_dir() -> Path:
    """The folder holding the XSDs: the repository's ``schemas/``, else the copy shipped in the package."""
    repo = Path(__file__).resolve().parents[2] / "schemas"
    if (repo / SCHEMA_FILES["declaration"]).is_file():
        return repo
    return Path(str(resources.files("gateway") / "schemas"))


class _RefuseAll(etree.Resolver):
    """Every external resource a schema might ask for (import, include, DTD) is refused."""

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> Any:
        raise SchemaError(f"ressource externe refusée dans un schéma: {system_url or public_id}")


def _xsd_parser() -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_RefuseAll())
    return parser


@dataclass(frozen=True)
class Schema:
    """One compiled schema, in both libraries, and the "expected" text of every element and attribute."""

    name: str
    path: Path
    lxml: etree.XMLSchema
    detail: xmlschema.XMLSchema
    expected: dict[tuple[str, str], str]


def _compile(path: Path) -> Schema:
    try:
        data = path.read_bytes()
        doc = etree.fromstring(data, _xsd_parser())
        compiled = etree.XMLSchema(doc)
        # allow='none': the schema may not load anything; defuse='always': no DTD/entities even locally.
        detail = xmlschema.XMLSchema(data.decode("utf-8"), allow="none", defuse="always")
    except (OSError, UnicodeDecodeError, etree.LxmlError, xmlschema.XMLSchemaException, SchemaError) as exc:
        raise SchemaError(f"le schéma {path.name} ne compile pas: {exc}") from exc
    return Schema(path.stem, path, compiled, detail, _expected_texts(detail))


def _doc_fr(xsd_type: Any) -> str | None:
    annotation = getattr(xsd_type, "annotation", None)
    if annotation is not None:
        for doc in annotation.documentation:
            if doc.get(XML_LANG) == "fr" and doc.text:
                return " ".join(doc.text.split())
    local = getattr(xsd_type, "local_name", None)
    return _BUILTIN_EXPECTED.get(local or "")


def _expected_texts(schema: xmlschema.XMLSchema) -> dict[tuple[str, str], str]:
    """(parent element, child element or ``@attribute``) → French description of its type."""
    out: dict[tuple[str, str], str] = {}
    seen: set[int] = set()

    def walk(elem: Any) -> None:
        if id(elem) in seen:
            return
        seen.add(id(elem))
        for name, attr in elem.attributes.items():
            text = _doc_fr(attr.type)
            if text and name:
                out[(elem.local_name, "@" + name)] = text
        content = getattr(elem.type, "content", None)
        if content is None or not hasattr(content, "iter_elements"):
            return
        for child in content.iter_elements():
            text = _doc_fr(child.type)
            if text:
                out[(elem.local_name, child.local_name)] = text
            walk(child)

    for root in schema.elements.values():
        walk(root)
    return out


@cache
def schema(name: str) -> Schema:
    """The compiled schema of one message kind (``declaration``, ``payslip``), compiled on first use."""
    return _compile(schemas_dir() / SCHEMA_FILES[name])


@cache
def iso20022_schema(message: str) -> Schema:
    """The official ISO 20022 schema of one message version (``pain.002.001.03``), compiled on first use."""
    return _compile(schemas_dir() / ISO20022_DIR / f"{message}.xsd")


def compile_all(directory: Path | None = None) -> list[str]:
    """Compile every ``*.xsd`` of the schemas folder; raise SchemaError if one does not compile cleanly.

    The gateway calls this at start so that a broken schema stops it before it takes any file.
    Returns the names of the schemas compiled.
    """
    folder = directory or schemas_dir()
    paths = sorted(folder.glob("*.xsd"))
    missing = [f for f in SCHEMA_FILES.values() if not (folder / f).is_file()]
    if missing:
        raise SchemaError(f"schéma absent de {folder}: {', '.join(missing)}")
    for path in paths:
        _compile(path)
    return [p.name for p in paths]


# --- Validation ------------------------------------------------------------------------------------


def is_valid(name: str, root: etree._Element) -> bool:
    """lxml's verdict: fast, no details."""
    return bool(schema(name).lxml.validate(root))


def explain(
    name: str | Schema, root: etree._Element, limit: int = MAX_FINDINGS
) -> tuple[list[Finding], int]:
    """Located findings (at most ``limit``) and their total count, for a document lxml found invalid.

    ``name`` is a message kind of :data:`SCHEMA_FILES`, or a compiled schema (:func:`iso20022_schema`).

    lxml's error log names every failing node; xmlschema then re-checks only those nodes, one level deep
    (``max_depth=1``), to say where and what was expected. The cost follows the number of errors, not the
    size of the file: a 50,000-employee file with a few bad values is explained in milliseconds.
    """
    sch = name if isinstance(name, Schema) else schema(name)
    tree = root.getroottree()
    units: dict[etree._Element, None] = {}  # ordered set of nodes to re-check, in log (document) order
    keys: set[tuple[str, str]] = set()
    orphans: list[Finding] = []
    for entry in sch.lxml.error_log:
        message = entry.message or ""
        attr = _LXML_ATTR.search(message)
        keys.add((entry.path or str(entry.line), attr.group(1) if attr else ""))
        if len(units) + len(orphans) >= limit:
            continue  # each node gives at least one finding: the rest are only counted
        node = _resolve(tree, entry.path)
        if node is None:
            orphans.append(
                finding("XML_SCHEMA", f"Non conforme au schéma: {message}", Location(line=entry.line))
            )
            continue
        if "not expected" in message and node.getparent() is not None:
            node = node.getparent()  # an unexpected child is a fault of its parent's content
        units.setdefault(node, None)
    kept: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for node in units:
        if len(kept) >= limit:
            break
        before = len(kept)
        for error in _recheck(sch, node):
            if len(kept) >= limit:
                break  # iter_errors is lazy: the errors past the cap are never built
            elem = error.elem
            attr_name = _attribute_of(error)
            key = (id(elem), attr_name or "")
            if key in seen:  # one finding per bad value (a pattern and a facet often fail together)
                continue
            seen.add(key)
            kept.append(_finding(sch, error, elem, attr_name))
        if len(kept) == before:  # the two libraries disagree: still refuse, in lxml's words
            kept.append(
                finding(
                    "XML_SCHEMA", "Non conforme au schéma.", Location(node.sourceline, None, xpath_of(node))
                )
            )
    kept = (kept + orphans)[:limit] or [finding("XML_SCHEMA", "Non conforme au schéma.")]
    return kept, max(len(keys), len(kept))


_LXML_ATTR = re.compile(r"attribute '([\w.:-]+)'")


def _resolve(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    if not path:
        return None
    try:
        found = tree.xpath(path)
    except etree.XPathError:
        return None
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None


def _recheck(sch: Schema, node: etree._Element) -> Iterator[Any]:
    """xmlschema's errors for one node (its attributes, content model or value), not its descendants.

    Lazy, so the caller stops at its cap. xmlschema builds a repr of the element's attributes for each
    error, so an element with many bad attributes costs their square: the attribute limit of
    :mod:`.xmllimits` keeps that number small before this ever runs.
    """
    steps = []
    current: etree._Element | None = node
    while current is not None:
        steps.append(str(current.tag))
        current = current.getparent()
    try:
        yield from sch.detail.iter_errors(
            node, schema_path="/" + "/".join(reversed(steps)), max_depth=1, use_location_hints=False
        )
    except (xmlschema.XMLSchemaException, KeyError, ValueError, TypeError):
        return


_ATTR = re.compile(r"^attribute ([\w.:-]+)=")
_MISSING_ATTR = re.compile(r"missing required attribute '([\w.:-]+)'")
_NOT_ALLOWED_ATTR = re.compile(r"'([\w.:{}/-]+)' attribute not allowed")


def _attribute_of(error: Any) -> str | None:
    reason = error.reason or ""
    m = _ATTR.match(reason) or _MISSING_ATTR.search(reason) or _NOT_ALLOWED_ATTR.search(reason)
    return m.group(1) if m else None


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def xpath_of(elem: etree._Element) -> str:
    """``/declarations/declaration[2]/employee[5]``: local names, 1-based positions among namesakes."""
    steps: list[str] = []
    node: etree._Element | None = elem
    while node is not None:
        parent = node.getparent()
        name = _local(node.tag)
        if parent is None:
            steps.append(name)
        else:
            # Counted by libxml2 in C: a declaration may have 50,000 employees before this node.
            ns = etree.QName(node).namespace
            if ns:
                before = node.xpath(f"count(preceding-sibling::p:{name})", namespaces={"p": ns})
            else:
                before = node.xpath(f"count(preceding-sibling::{name})")
            steps.append(f"{name}[{int(before) + 1}]")
        node = parent
    return "/" + "/".join(reversed(steps))


def _finding(sch: Schema, error: Any, elem: etree._Element | None, attr: str | None) -> Finding:
    reason: str = error.reason or str(error)
    name = _local(elem.tag) if elem is not None else "?"
    parent = _local(elem.getparent().tag) if elem is not None and elem.getparent() is not None else ""
    xpath = xpath_of(elem) if elem is not None else None
    line = getattr(error, "sourceline", None) or (elem.sourceline if elem is not None else None)
    expected: str | None
    if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
        wanted = [_local(x.name) for x in (error.expected or []) if getattr(x, "name", None)]
        expected = (
            ("élément " + " ou ".join(f"« {w} »" for w in wanted)) if wanted else "aucun autre élément ici"
        )
        if error.invalid_tag is not None:
            child = _local(error.invalid_tag)
            message = f"Élément « {child} » inattendu dans « {name} »."
            bad = error.invalid_child
            if bad is not None:
                line, xpath = bad.sourceline, xpath_of(bad)
        else:
            message = f"Contenu incomplet de l'élément « {name} »."
        return finding("XML_SCHEMA", message, Location(line=line, xpath=xpath), expected)
    if attr is not None and xpath is not None:
        attr_path = f"{xpath}/@{attr}"
        if reason.startswith("missing required attribute"):
            return finding(
                "XML_SCHEMA",
                f"Attribut obligatoire « {attr} » absent de « {name} ».",
                Location(line=line, xpath=attr_path),
                sch.expected.get((name, "@" + attr)),
            )
        if "attribute not allowed" in reason:
            allowed = sorted(a[1:] for (p, a) in sch.expected if p == name and a.startswith("@"))
            return finding(
                "XML_SCHEMA",
                f"Attribut « {_local(attr)} » non permis sur « {name} ».",
                Location(line=line, xpath=attr_path),
                "attributs permis: " + ", ".join(allowed) if allowed else "aucun attribut",
            )
        value = elem.get(attr) if elem is not None else None
        return finding(
            "XML_SCHEMA",
            f"Valeur {_quote(value)} invalide pour l'attribut « {attr} » de « {name} ».",
            Location(line=line, xpath=attr_path),
            sch.expected.get((name, "@" + attr)),
        )
    if "character data" in reason or "mixed" in reason:
        return finding(
            "XML_SCHEMA",
            f"Texte non permis directement dans « {name} ».",
            Location(line=line, xpath=xpath),
            "seulement des éléments",
        )
    if (
        isinstance(error, (xmlschema.XMLSchemaDecodeError, xmlschema.XMLSchemaValidationError))
        and elem is not None
        and len(elem) == 0
    ):
        return finding(
            "XML_SCHEMA",
            f"Valeur {_quote(elem.text)} invalide pour l'élément « {name} ».",
            Location(line=line, xpath=xpath),
            sch.expected.get((parent, name)),
        )
    return finding("XML_SCHEMA", f"Non conforme au schéma: {reason}", Location(line=line, xpath=xpath))


def _quote(value: str | None) -> str:
    if value is None:
        return "vide"
    shown = value if len(value) <= 40 else value[:40] + "…"
    return f"« {shown} »"
