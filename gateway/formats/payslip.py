"""Payslip requests (``urn:csm-gateway:payslip:1``, or the payslip CSV): identify, parse, check."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.codes import finding
from gateway.domain import (
    ElementKind,
    FileFormat,
    FileKind,
    Finding,
    Location,
    Overtime,
    PayElement,
    PayslipFile,
    PayslipRequest,
    Period,
    ReadResult,
)
from gateway.formats import csvreader, xsd
from gateway.formats.csvreader import Fields, Row
from gateway.formats.safexml import xinclude_elements
from gateway.formats.sniff import Limits, Sniff, refused
from gateway.money import CENT
from gateway.rules import payslip_rules
from gateway.rules.context import CheckContext, Verdict
from gateway.rules.view import RecordsView

KIND = FileKind.PAYSLIP
NAMESPACE = "urn:csm-gateway:payslip:1"
ROOT = "payslip-requests"
SCHEMA = "payslip"

CSV_REQUIRED = (
    "employer",
    "period",
    "registration",
    "hourly_rate",
    "hours",
    "overtime_25_hours",
    "overtime_50_hours",
    "element_kind",
    "element_label",
    "element_amount",
)
CSV_DISTINCTIVE = frozenset(
    {
        "hourly_rate",
        "overtime_25_hours",
        "overtime_50_hours",
        "element_kind",
        "element_label",
        "element_amount",
    }
)

ELEMENT_CODES = tuple(k.value for k in ElementKind)
MAX_AMOUNT = Decimal("9999999.99")
MAX_RATE = Decimal("9999.9999")
MAX_HOURS = Decimal(744)


def identify(sniff: Sniff) -> bool:
    if sniff.format is FileFormat.XML:
        return sniff.root_tag == f"{{{NAMESPACE}}}{ROOT}"
    return bool(CSV_DISTINCTIVE & set(sniff.header))


def parse(sniff: Sniff, limits: Limits) -> ReadResult:
    if not identify(sniff):
        return refused(
            KIND,
            [
                finding(
                    "FILE_UNKNOWN_KIND",
                    "Ce fichier n'est pas une demande de bulletins.",
                    Location(line=1),
                    f"racine « {ROOT} » ({NAMESPACE}) ou en-tête CSV de bulletins",
                )
            ],
        )
    if sniff.format is FileFormat.XML:
        return _parse_xml(sniff, limits)
    return _parse_csv(sniff, limits)


def check(value: Any, context: CheckContext, view: RecordsView | None) -> tuple[Verdict, ...]:
    return payslip_rules.check_file(value, context, view)


# --- XML ----------------------------------------------------------------------------------------------

_T = f"{{{NAMESPACE}}}"
T_RATE, T_HOURS, T_OVERTIME, T_ELEMENT = _T + "hourly-rate", _T + "hours", _T + "overtime", _T + "element"


def _parse_xml(sniff: Sniff, limits: Limits) -> ReadResult:
    root = sniff.root
    assert root is not None
    if not xsd.is_valid(SCHEMA, root):
        included = xinclude_elements(root)
        if included:
            return refused(
                KIND,
                [
                    finding(
                        "XML_XINCLUDE_FORBIDDEN",
                        "XInclude interdit : le fichier doit être complet.",
                        Location(line=e.sourceline, xpath=xsd.xpath_of(e)),
                        "aucun élément XInclude",
                    )
                    for e in included
                ],
                fmt=FileFormat.XML,
            )
        found, total = xsd.explain(SCHEMA, root, limits.max_findings)
        return refused(KIND, list(sniff.warnings) + found, total + len(sniff.warnings), FileFormat.XML)
    requests = []
    for index, p in enumerate(root, start=1):
        rate = hours = Decimal(0)
        overtime: list[Overtime] = []
        elements: list[PayElement] = []
        for c in p:
            if c.tag == T_RATE:
                rate = Decimal(c.text)
            elif c.tag == T_HOURS:
                hours = Decimal(c.text).quantize(CENT)
            elif c.tag == T_OVERTIME:
                overtime.append(Overtime(int(c.get("rate")), Decimal(c.get("hours")).quantize(CENT)))
            elif c.tag == T_ELEMENT:
                elements.append(
                    PayElement(
                        ElementKind(c.get("kind")), c.get("label"), Decimal(c.get("amount")).quantize(CENT)
                    )
                )
        requests.append(
            PayslipRequest(
                employer=p.get("employer"),
                period=Period.parse(p.get("period")),
                registration=p.get("registration"),
                hourly_rate=rate,
                hours=hours,
                overtime=tuple(overtime),
                elements=tuple(elements),
                index=index,
                location=Location(line=p.sourceline, xpath=f"/{ROOT}/payslip[{index}]"),
            )
        )
    value = PayslipFile(
        requests=tuple(requests),
        test=root.get("test", "false").strip() in ("true", "1"),
        format=FileFormat.XML,
    )
    return ReadResult(
        kind=KIND,
        value=value,
        findings=sniff.warnings,
        total_findings=len(sniff.warnings),
        extra={"format": FileFormat.XML.value},
    )


# --- CSV ----------------------------------------------------------------------------------------------


@dataclass
class _Request:
    row: Row
    employer: str
    period: Period
    registration: str
    rate: Decimal
    hours: Decimal
    overtime: list[Overtime] = field(default_factory=list)
    elements: list[PayElement] = field(default_factory=list)


def _parse_csv(sniff: Sniff, limits: Limits) -> ReadResult:
    table = csvreader.read_table(
        sniff.data, CSV_REQUIRED, max_rows=limits.max_csv_rows, max_field=limits.max_field_chars
    )
    requests: list[_Request] = []
    by_key: dict[tuple[str, Period, str], _Request] = {}
    if not table.total:
        for row in table.rows:
            for error in _row(row, requests, by_key):
                table.add(error)
    if table.total:
        return refused(KIND, table.findings, table.total, FileFormat.CSV)
    value = PayslipFile(
        requests=tuple(
            PayslipRequest(
                employer=r.employer,
                period=r.period,
                registration=r.registration,
                hourly_rate=r.rate,
                hours=r.hours,
                overtime=tuple(r.overtime),
                elements=tuple(r.elements),
                index=i,
                location=Location(line=r.row.line),
            )
            for i, r in enumerate(requests, start=1)
        ),
        test=sniff.name.lower().endswith(".test.csv"),
        format=FileFormat.CSV,
    )
    return ReadResult(kind=KIND, value=value, extra={"format": FileFormat.CSV.value})


def _row(
    row: Row, requests: list[_Request], by_key: dict[tuple[str, Period, str], _Request]
) -> list[Finding]:
    f = Fields(row)
    employer = f.get("employer", csvreader.identifier, 5, 9, "numéro d'employeur")
    period = f.get("period", csvreader.period)
    registration = f.get("registration", csvreader.identifier, 6, 9, "matricule")
    rate = f.get("hourly_rate", csvreader.decimal, fraction=4, maximum=MAX_RATE, what="taux horaire")
    hours = f.get("hours", csvreader.decimal, maximum=MAX_HOURS, what="heures")
    ot25 = f.get("overtime_25_hours", csvreader.decimal, maximum=MAX_HOURS, what="heures")
    ot50 = f.get("overtime_50_hours", csvreader.decimal, maximum=MAX_HOURS, what="heures")
    element = _element(f)
    for name, value in (("employer", employer), ("period", period), ("registration", registration)):
        f.require(name, value)
    continuation = all(v is None and not f.bad(n) for n, v in (("hourly_rate", rate), ("hours", hours)))
    if continuation:
        for name, value in (("overtime_25_hours", ot25), ("overtime_50_hours", ot50)):
            if value is not None:
                f.forbid(name, "ligne de continuation (taux horaire et heures vides)")
    else:
        f.require("hourly_rate", rate)
        f.require("hours", hours)
    if f.errors or employer is None or period is None or registration is None:
        return f.errors
    key = (employer, period, registration)
    if continuation:
        request = by_key.get(key)
        if request is None:
            f.error(
                "registration",
                "CSV_CONTINUATION_ORPHAN",
                "Ligne sans taux horaire ni heures, et aucune demande pour ce salarié plus haut.",
                "une ligne principale (hourly_rate, hours) plus haut, même employeur, période et matricule",
            )
        elif element is None:
            f.error(
                "element_kind",
                "CSV_VALUE_REQUIRED",
                "Ligne de continuation sans élément de paie.",
                "un élément de paie, ou hourly_rate et hours remplis",
            )
        else:
            request.elements.append(element)
        return f.errors
    request = _Request(row, employer, period, registration, rate, hours)  # type: ignore[arg-type]
    for pct, value in ((25, ot25), (50, ot50)):
        if value is not None:
            request.overtime.append(Overtime(pct, value))
    if element is not None:
        request.elements.append(element)
    requests.append(request)
    by_key[key] = request
    return []


def _element(f: Fields) -> PayElement | None:
    kind = f.get("element_kind", csvreader.code, ELEMENT_CODES, "nature d'élément")
    label = f.get("element_label", csvreader.label)
    amount = f.get("element_amount", csvreader.decimal, maximum=MAX_AMOUNT, what="montant")
    given = {n: v for n, v in (("element_kind", kind), ("element_label", label), ("element_amount", amount))}
    if all(v is None for v in given.values()) or any(f.bad(n) for n in given):
        return None
    for name, value in given.items():
        f.require(name, value)
    if kind is None or label is None or amount is None:
        return None
    return PayElement(ElementKind(kind), label, amount)
