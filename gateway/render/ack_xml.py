"""The acknowledgement as XML (``urn:csm-gateway:acknowledgement:1``), and its check against the bundled XSD.

Rendering is deterministic: attributes in a fixed order, UTF-8, decimals written plainly (``1234.50``),
times ISO 8601 with their offset, no timestamp of its own. The gateway checks every acknowledgement with
:func:`check_ack_xml` before delivering it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from lxml import etree

from gateway.domain import AckDeclaration, Acknowledgement, AckPayslip, Finding, FundTotal, Location
from gateway.errors import RenderError
from gateway.render.text import clean
from gateway.render.xml_check import cents, check_xml

NAMESPACE = "urn:csm-gateway:acknowledgement:1"
SCHEMA_FILE = "acknowledgement-1.xsd"
_NS = f"{{{NAMESPACE}}}"


# ----------------------------------------------------------------------------------- value → text


def _amount(value: Decimal, what: str) -> str:
    """``1234.50``: exactly two fraction digits (see :func:`gateway.render.xml_check.cents`)."""
    return cents(value, f"accusé de réception: {what}")


def _rate(value: Decimal) -> str:
    """A fraction as plain digits, never with an exponent: ``0.0685``, ``0.1340`` (as the rates data has it)."""
    return f"{value:f}"


def _time(moment: datetime, what: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RenderError(f"accusé de réception: {what} sans fuseau horaire ({moment.isoformat()})")
    return moment.isoformat(timespec="seconds")


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


def _set(element: etree._Element, name: str, value: str | None) -> None:
    """Attributes are set in the order of the calls below, which is the order they are written in."""
    if value is not None:
        element.set(name, clean(value))


def _child(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _NS + tag)
    if text is not None:
        element.text = clean(text)
    return element


# ----------------------------------------------------------------------------------- parts


def _location(parent: etree._Element, loc: Location) -> None:
    if loc.line is None and loc.column is None and not loc.xpath and not loc.field:
        return
    element = _child(parent, "location")
    _set(element, "line", None if loc.line is None else str(loc.line))
    _set(element, "column", None if loc.column is None else str(loc.column))
    _set(element, "xpath", loc.xpath or None)
    _set(element, "field", loc.field or None)


def _finding(parent: etree._Element, finding: Finding) -> None:
    element = _child(parent, "finding")
    _set(element, "code", finding.code)
    _set(element, "severity", finding.severity.value)
    _child(element, "message", finding.message)
    _location(element, finding.location)
    if finding.expected is not None:
        _child(element, "expected", finding.expected)


def _fund(parent: etree._Element, fund: FundTotal) -> None:
    element = _child(parent, "contribution")
    _set(element, "fund", fund.fund)
    _set(element, "label", fund.label)
    _set(element, "base", _amount(fund.base, f"base {fund.fund}"))
    _set(element, "rate", None if fund.rate is None else _rate(fund.rate))
    _set(element, "employer", _amount(fund.employer, f"part patronale {fund.fund}"))
    _set(element, "employee", _amount(fund.employee, f"part salariale {fund.fund}"))


def _declaration(parent: etree._Element, decl: AckDeclaration) -> None:
    element = _child(parent, "declaration")
    _set(element, "index", str(decl.index))
    _set(element, "employer", decl.employer)
    _set(element, "employer-name", decl.employer_name)
    _set(element, "period", decl.period)
    _set(element, "reference", decl.reference)
    _set(element, "status", decl.status.value)
    _set(element, "employees", str(decl.employees))
    _set(element, "total-gross", _amount(decl.total_gross, "brut total"))
    _set(element, "total-hours", _amount(decl.total_hours, "heures totales"))
    _set(element, "late", _bool(decl.late))
    if decl.funds:
        # The totals a payer needs are sums of the per-fund amounts shown just below: no new figure.
        employer = sum((f.employer for f in decl.funds), Decimal("0.00"))
        employee = sum((f.employee for f in decl.funds), Decimal("0.00"))
        _set(element, "employer-total", _amount(employer, "total patronal"))
        _set(element, "employee-total", _amount(employee, "total salarial"))
    for fund in decl.funds:
        _fund(element, fund)
    for finding in decl.findings:
        _finding(element, finding)


def _payslip(parent: etree._Element, slip: AckPayslip) -> None:
    element = _child(parent, "payslip")
    _set(element, "index", str(slip.index))
    _set(element, "employer", slip.employer)
    _set(element, "period", slip.period)
    _set(element, "registration", slip.registration)
    _set(element, "status", slip.status.value)
    _set(element, "gross", None if slip.gross is None else _amount(slip.gross, "brut"))
    _set(element, "net", None if slip.net is None else _amount(slip.net, "net"))
    _set(element, "document", slip.document)
    for finding in slip.findings:
        _finding(element, finding)


# ----------------------------------------------------------------------------------- public


def render_ack_xml(ack: Acknowledgement) -> bytes:
    """The acknowledgement as UTF-8 XML bytes; the same value always gives the same bytes."""
    root = etree.Element(_NS + "acknowledgement", nsmap={None: NAMESPACE})
    _set(root, "reference", ack.reference)
    _set(root, "subscriber", ack.subscriber)
    _set(root, "kind", None if ack.kind is None else ack.kind.value)
    _set(root, "test", _bool(ack.test))
    _set(root, "status", ack.outcome.value)
    _set(root, "duplicate-of", ack.duplicate_of)
    _set(root, "total-findings", str(ack.total_findings))
    received = _child(root, "file")
    _set(received, "name", ack.file_name)
    _set(received, "size", str(ack.size))
    _set(received, "sha256", ack.sha256.lower())
    _set(received, "received", _time(ack.received_at, "heure de réception"))
    _set(received, "processed", _time(ack.processed_at, "heure de traitement"))
    for decl in ack.declarations:
        _declaration(root, decl)
    for slip in ack.payslips:
        _payslip(root, slip)
    for finding in ack.findings:
        _finding(root, finding)
    for note in ack.notes:
        _child(root, "note", note)
    for applied in ack.rates:
        rate = _child(root, "rate")
        for comp_name, comp_value in applied.components:
            component = _child(rate, "component")
            _set(component, "parameter", comp_name)
            _set(component, "value", f"{comp_value:f}")
        _set(rate, "parameter", applied.parameter)
        _set(rate, "value", f"{applied.value:f}")
        _set(rate, "unit", applied.unit)
        _set(rate, "since", applied.since.isoformat())
        _set(rate, "unconfirmed", "true" if applied.unconfirmed else "false")
        _set(rate, "source", applied.source)
    # lxml writes its own declaration with single quotes; ours is the conventional one.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def check_ack_xml(data: bytes) -> None:
    """Raise RenderError unless ``data`` is a well-formed acknowledgement valid against acknowledgement-1.xsd."""
    check_xml(data, SCHEMA_FILE, "accusé de réception")
