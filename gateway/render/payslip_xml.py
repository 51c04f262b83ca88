"""The machine-readable payslip (``urn:csm-gateway:payslip-result:1``), and its check against the bundled XSD.

The same figures as the PDF, from the same :class:`~gateway.domain.Payslip`. The shape is written out
here, element by element, in the order of ``schemas/payslip-result-1.xsd``: elements only, every list
always present (possibly empty), an absent value left out. Deterministic: the same payslip gives the same
bytes. Amounts are written with exactly two decimals (an amount with more is a bug upstream, not ours to
round), hours with two, contribution rates as the rates data has them. The gateway checks every payslip
XML with :func:`check_payslip_xml` before delivering it.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from lxml import etree

from gateway.domain import ContributionLine, Finding, PayLine, Payslip, RateUse
from gateway.render.text import clean
from gateway.render.xml_check import cents, check_xml
from gateway.rules.contributions import FUNDS

NAMESPACE = "urn:csm-gateway:payslip-result:1"
SCHEMA_FILE = "payslip-result-1.xsd"
_NS = f"{{{NAMESPACE}}}"
_CENT = Decimal("0.01")


# ----------------------------------------------------------------------------------- value → text


def _cents(value: Decimal, what: str) -> str:
    """``1234.50``: exactly two fraction digits (see :func:`gateway.render.xml_check.cents`)."""
    return cents(value, f"bulletin de salaire: {what}")


def _hourly(value: Decimal) -> str:
    """``19.50``, ``24.375``: at least two fraction digits, no trailing zero beyond them."""
    quantized = value.quantize(_CENT)
    return f"{quantized if quantized == value else value.normalize():f}"


def _plain(value: Decimal) -> str:
    """A rate or a dated value as plain digits, never with an exponent, as the rates data has it."""
    return f"{value:f}"


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


def _child(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _NS + tag)
    if text is not None:
        element.text = clean(text)
    return element


def _optional(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        _child(parent, tag, text)


# ----------------------------------------------------------------------------------- parts


_RATE_USES: dict[tuple[str, RateUse], etree._Element] = {}  # (tag, value) → its element, built once
_RATE_USES_MAX = 512


def _rate_use(parent: etree._Element, tag: str, use: RateUse | None) -> None:
    """The dated value a figure came from. The same few values recur in every payslip of a month (three per
    contribution): each is built once per process and copied, the same elements either way."""
    if use is None:
        return
    key = (tag, use)
    made = _RATE_USES.get(key)
    if made is None:
        made = etree.Element(_NS + "payslip", nsmap={None: NAMESPACE})  # a holder: same namespace map
        _build_rate_use(made, tag, use)
        if len(_RATE_USES) >= _RATE_USES_MAX:
            _RATE_USES.clear()
        _RATE_USES[key] = made
    parent.append(copy.deepcopy(made[0]))


def _build_rate_use(parent: etree._Element, tag: str, use: RateUse) -> None:
    element = _child(parent, tag)
    _child(element, "parameter", use.parameter)
    _optional(element, "label", use.label or None)
    _child(element, "since", use.since.isoformat())
    _child(element, "value", _plain(use.value))
    _child(element, "source", use.source)
    _child(element, "unconfirmed", _bool(use.unconfirmed))
    _optional(element, "checked", use.checked.isoformat() if use.checked else None)
    components = _child(element, "components")
    for name, value in use.components:
        component = _child(components, "component")
        _child(component, "name", name)
        _child(component, "value", _plain(value))


def _pay_lines(parent: etree._Element, tag: str, lines: tuple[PayLine, ...]) -> None:
    container = _child(parent, tag)
    for line in lines:
        element = _child(container, "line")
        _child(element, "label", line.label)
        _optional(element, "base", None if line.base is None else _cents(line.base, f"heures de « {line.label} »"))
        _optional(element, "rate", None if line.rate is None else _hourly(line.rate))
        _optional(element, "employee", None if line.employee is None else _cents(line.employee, line.label))
        _optional(element, "employer", None if line.employer is None else _cents(line.employer, line.label))
        _child(element, "subject", _bool(line.subject))
        _rate_use(element, "rate-use", line.rate_use)


def _contribution(parent: etree._Element, c: ContributionLine) -> None:
    what = f"{c.fund} part {c.share.value}"
    element = _child(parent, "contribution")
    _child(element, "fund", c.fund)
    _child(element, "label", FUNDS[c.fund])
    _child(element, "share", c.share.value)
    _child(element, "base", _cents(c.base, f"assiette {what}"))
    _child(element, "rate", _plain(c.rate))
    _child(element, "amount", _cents(c.amount, f"cotisation {what}"))
    _optional(element, "ceiling", None if c.ceiling is None else _cents(c.ceiling, f"plafond {what}"))
    _rate_use(element, "rate-use", c.rate_use)
    _rate_use(element, "ceiling-use", c.ceiling_use)
    _rate_use(element, "base-use", c.base_use)


def _finding(parent: etree._Element, finding: Finding) -> None:
    element = _child(parent, "finding")
    _child(element, "code", finding.code)
    _child(element, "severity", finding.severity.value)
    _child(element, "message", finding.message)


# ----------------------------------------------------------------------------------- public


def render_payslip_xml(payslip: Payslip, *, reference: str, test: bool) -> bytes:
    """The payslip as UTF-8 XML bytes, in the shape of payslip-result-1.xsd; the same value, the same bytes."""
    p, r = payslip, payslip.request
    root = etree.Element(_NS + "payslip", nsmap={None: NAMESPACE})
    root.set("reference", clean(reference))
    root.set("test", _bool(test))
    _child(root, "employer", r.employer)
    _child(root, "period", str(r.period))
    _child(root, "registration", r.registration)
    _child(root, "employer-name", p.employer_name)
    _child(root, "employer-address", p.employer_address)
    _child(root, "employee-name", p.employee_name)
    _child(root, "hourly-rate", _hourly(r.hourly_rate))
    _child(root, "hours", _cents(r.hours, "heures"))
    overtime = _child(root, "overtime-hours")
    for ot in r.overtime:
        element = _child(overtime, "overtime")
        _child(element, "rate", str(ot.rate))
        _child(element, "hours", _cents(ot.hours, f"heures supplémentaires à {ot.rate} %"))
    _pay_lines(root, "earnings", p.earnings)
    _child(root, "gross", _cents(p.gross, "brut"))
    contributions = _child(root, "contributions")
    for line in p.contributions:
        _contribution(contributions, line)
    _child(root, "employee-contributions", _cents(p.employee_contributions, "cotisations salariales"))
    _child(root, "employer-contributions", _cents(p.employer_contributions, "cotisations patronales"))
    _pay_lines(root, "non-subject", p.non_subject)
    _child(root, "net", _cents(p.net, "net"))
    _child(root, "total-cost", _cents(p.total_cost, "coût total"))
    _optional(root, "payment-date", p.payment_date.isoformat() if p.payment_date else None)
    notes = _child(root, "notes")
    for note in p.notes:
        _child(notes, "note", note)
    findings = _child(root, "findings")
    for finding in p.findings:
        _finding(findings, finding)
    # lxml writes its own declaration with single quotes; ours is the conventional one.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def check_payslip_xml(data: bytes) -> None:
    """Raise RenderError unless ``data`` is a well-formed payslip result valid against payslip-result-1.xsd."""
    check_xml(data, SCHEMA_FILE, "bulletin de salaire")
