"""The check of an XML document the gateway delivers against its bundled XSD, before it leaves.

Each schema is compiled once per process, from the local file, on first use. The acknowledgement and the
payslip result both go through :func:`check_xml`: a document that breaks its own schema is a bug, and it
is never delivered (the caller gets a RenderError and the file is parked).
"""

from __future__ import annotations

import threading
from decimal import Decimal

from lxml import etree

from gateway.errors import RenderError, SchemaError
from gateway.formats.xsd import schemas_dir

_CENT = Decimal("0.01")


def cents(value: Decimal, what: str) -> str:
    """``1234.50``: exactly two fraction digits; an amount with more is a bug upstream, not the renderer's
    to round: RenderError naming the figure (``what``: the document and the figure)."""
    quantized = value.quantize(_CENT)
    if quantized != value:
        raise RenderError(f"{what} = {value} n'est pas arrondi au centime")
    return f"{quantized:f}"


def safe_parser() -> etree.XMLParser:
    """No entity expansion, no DTD, no network: the XSDs and the documents are ours, but stay on the safe side.

    A new parser per call: lxml parsers are cheap and must not be shared between threads.
    """
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


# libxml2 keeps a validator's error log per schema object, so one schema object may not validate in two
# threads at once (the intake's lanes deliver in parallel): each schema has its own lock, and compiling
# takes the global one, so that a schema is compiled once.
_COMPILE_LOCK = threading.Lock()
_SCHEMAS: dict[str, tuple[etree.XMLSchema, threading.Lock]] = {}


def _compiled(schema_file: str) -> tuple[etree.XMLSchema, threading.Lock]:
    found = _SCHEMAS.get(schema_file)
    if found is not None:
        return found
    with _COMPILE_LOCK:
        found = _SCHEMAS.get(schema_file)
        if found is None:
            path = schemas_dir() / schema_file
            try:
                # bytes, not a path: the schema is ours, but every parse goes through the same safe parser
                schema = etree.XMLSchema(etree.fromstring(path.read_bytes(), safe_parser()))
            except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
                raise SchemaError(f"{path}: {exc}") from exc
            found = _SCHEMAS[schema_file] = (schema, threading.Lock())
    return found


def check_xml(data: bytes, schema_file: str, what: str) -> None:
    """Raise RenderError unless ``data`` is well formed and valid against ``schema_file`` (in ``schemas/``).

    ``what`` names the document in the message, in French: « accusé de réception », « bulletin de salaire ».
    """
    try:
        document = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise RenderError(f"{what} XML mal formé: {exc}") from exc
    schema, lock = _compiled(schema_file)
    with lock:
        if schema.validate(document):
            return
        errors = "; ".join(f"ligne {e.line}: {e.message}" for e in list(schema.error_log)[:5])
    raise RenderError(f"{what} non conforme à {schema_file}: {errors}")
