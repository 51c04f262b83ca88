"""Salary declarations (``urn:csm-gateway:declaration:1``, or the declaration CSV): identify, parse, check.

XML is validated against ``schemas/declaration-1.xsd`` first; values are then pulled out by iterating
children once (no ``findtext`` per field: a 50,000-employee file stays well under a second). CSV rows are
grouped by employer and period, in order of first appearance; continuation rows add events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from gateway.codes import finding
from gateway.domain import (
    Declaration,
    DeclarationFile,
    EmployeeLine,
    Event,
    EventType,
    FileFormat,
    FileKind,
    Finding,
    Location,
    Period,
    ReadResult,
    Totals,
)
from gateway.formats import csvreader, xsd
from gateway.formats.csvreader import Fields, Row
from gateway.formats.safexml import xinclude_elements
from gateway.formats.sniff import Limits, Sniff, refused
from gateway.money import CENT, ZERO
from gateway.rules import declaration_rules
from gateway.rules.context import CheckContext, Verdict
from gateway.rules.view import RecordsView

KIND = FileKind.DECLARATION
NAMESPACE = "urn:csm-gateway:declaration:1"
ROOT = "declarations"
SCHEMA = "declaration"

CSV_REQUIRED = (
    "employer",
    "period",
    "registration",
    "last_name",
    "first_name",
    "birth_date",
    "director",
    "gross",
    "hours",
    "event",
    "event_start",
    "event_end",
)
CSV_OPTIONAL = ("unemployment_insurance", "event_hours")
# Columns only a declaration has: a header with one of these is a declaration header.
CSV_DISTINCTIVE = frozenset(
    {
        "last_name",
        "first_name",
        "birth_date",
        "director",
        "gross",
        "event",
        "event_start",
        "event_end",
        "unemployment_insurance",
        "event_hours",
    }
)

MAX_AMOUNT = Decimal("9999999.99")
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
                    "Ce fichier n'est pas une déclaration de salaires.",
                    Location(line=1),
                    f"racine « {ROOT} » ({NAMESPACE}) ou en-tête CSV de déclaration",
                )
            ],
        )
    if sniff.format is FileFormat.XML:
        return _parse_xml(sniff, limits)
    return _parse_csv(sniff, limits)


def check(value: Any, context: CheckContext, view: RecordsView | None) -> tuple[Verdict, ...]:
    return declaration_rules.check_file(value, context, view)


# --- XML ----------------------------------------------------------------------------------------------

_T = f"{{{NAMESPACE}}}"
T_DECLARATION, T_EMPLOYEE, T_TOTALS, T_EVENT = (
    _T + "declaration",
    _T + "employee",
    _T + "totals",
    _T + "event",
)
T_LAST, T_FIRST, T_BIRTH, T_GROSS, T_HOURS = (
    _T + n for n in ("last-name", "first-name", "birth-date", "gross", "hours")
)
_TRUE = ("true", "1")


def _parse_xml(sniff: Sniff, limits: Limits) -> ReadResult:
    root = sniff.root
    assert root is not None
    if not xsd.is_valid(SCHEMA, root):
        included = xinclude_elements(root)
        if included:
            found = [
                finding(
                    "XML_XINCLUDE_FORBIDDEN",
                    "XInclude interdit : le fichier doit être complet.",
                    Location(line=e.sourceline, xpath=xsd.xpath_of(e)),
                    "aucun élément XInclude",
                )
                for e in included
            ]
            return refused(KIND, found, fmt=FileFormat.XML)
        found, total = xsd.explain(SCHEMA, root, limits.max_findings)
        return refused(KIND, list(sniff.warnings) + found, total + len(sniff.warnings), FileFormat.XML)
    value = extract(root)
    return ReadResult(
        kind=KIND,
        value=value,
        findings=sniff.warnings,
        total_findings=len(sniff.warnings),
        extra={"format": FileFormat.XML.value},
    )


def extract(root: Any) -> DeclarationFile:
    """Domain values from a root already valid against the schema (so every value parses).

    The hot loop of a 50,000-employee file: children are visited once, each tag read once, and the
    frozen values built with positional arguments.
    """
    declarations = []
    for d_index, d in enumerate(root, start=1):
        d_path = f"/declarations/declaration[{d_index}]"
        lines: list[EmployeeLine] = []
        totals = None
        for child in d:
            if child.tag == T_EMPLOYEE:
                lines.append(_employee(child, f"{d_path}/employee[{len(lines) + 1}]"))
            else:  # the schema allows nothing else after the employees
                totals = Totals(
                    int(child.get("employees")),
                    _cents(child.get("gross")),
                    _cents(child.get("hours")),
                    Location(child.sourceline, None, f"{d_path}/totals"),
                )
        declarations.append(
            Declaration(
                d.get("employer"),
                Period.parse(d.get("period").strip()),
                tuple(lines),
                totals,
                d_index,
                Location(d.sourceline, None, d_path),
            )
        )
    created = root.get("created")
    return DeclarationFile(
        declarations=tuple(declarations),
        test=root.get("test", "false").strip() in _TRUE,
        software=root.get("software"),
        created=datetime.fromisoformat(created.strip()) if created else None,
        format=FileFormat.XML,
    )


def _cents(text: str) -> Decimal:
    value = Decimal(text)
    return value if text[-3:-2] == "." else value.quantize(CENT)


_EVENT_TYPES = {t.value: t for t in EventType}
EVENT_CODES = tuple(_EVENT_TYPES)


def _employee(e: Any, path: str) -> EmployeeLine:
    last = first = birth = None
    gross = hours = ZERO
    events: list[Event] = []
    for c in e:
        tag = c.tag
        if tag == T_GROSS:
            text = c.text
            gross = Decimal(text) if text[-3:-2] == "." else Decimal(text).quantize(CENT)
        elif tag == T_HOURS:
            text = c.text
            hours = Decimal(text) if text[-3:-2] == "." else Decimal(text).quantize(CENT)
        elif tag == T_EVENT:
            start, end, ev_hours = c.get("start"), c.get("end"), c.get("hours")
            events.append(
                Event(
                    _EVENT_TYPES[c.get("type").strip()],
                    date.fromisoformat(start.strip()) if start else None,
                    date.fromisoformat(end.strip()) if end else None,
                    _cents(ev_hours) if ev_hours else None,
                    Location(c.sourceline, None, f"{path}/event[{len(events) + 1}]"),
                )
            )
        elif tag == T_LAST:
            last = c.text
        elif tag == T_FIRST:
            first = c.text
        elif tag == T_BIRTH:
            birth = date.fromisoformat(c.text.strip())
    director = e.get("director")
    insured = e.get("unemployment-insurance")
    return EmployeeLine(
        gross,
        hours,
        e.get("registration"),
        last,
        first,
        birth,
        director is not None and director.strip() in _TRUE,
        insured is None or insured.strip() in _TRUE,
        tuple(events),
        Location(e.sourceline, None, path),
    )


# --- CSV ----------------------------------------------------------------------------------------------


@dataclass
class _Line:
    """An employee line being assembled from its main row and continuation rows."""

    row: Row
    gross: Decimal
    hours: Decimal
    registration: str | None
    last: str | None
    first: str | None
    birth: date | None
    director: bool
    insured: bool
    events: list[Event] = field(default_factory=list)


def _parse_csv(sniff: Sniff, limits: Limits) -> ReadResult:
    table = csvreader.read_table(
        sniff.data, CSV_REQUIRED, CSV_OPTIONAL, max_rows=limits.max_csv_rows, max_field=limits.max_field_chars
    )
    groups: dict[tuple[str, Period], list[_Line]] = {}
    first_rows: dict[tuple[str, Period], Row] = {}
    by_identity: dict[tuple[object, ...], _Line] = {}
    if not table.total:
        for row in table.rows:
            for error in _row(row, groups, first_rows, by_identity):
                table.add(error)
    if table.total:
        return refused(KIND, table.findings, table.total, FileFormat.CSV)
    declarations = tuple(
        Declaration(
            employer=key[0],
            period=key[1],
            lines=tuple(_freeze(x) for x in lines),
            totals=None,
            index=i,
            location=Location(line=first_rows[key].line),
        )
        for i, (key, lines) in enumerate(groups.items(), start=1)
    )
    value = DeclarationFile(
        declarations=declarations, test=sniff.name.lower().endswith(".test.csv"), format=FileFormat.CSV
    )
    return ReadResult(kind=KIND, value=value, extra={"format": FileFormat.CSV.value})


def _row(
    row: Row,
    groups: dict[tuple[str, Period], list[_Line]],
    first_rows: dict[tuple[str, Period], Row],
    by_identity: dict[tuple[object, ...], _Line],
) -> list[Finding]:
    """Add one row to the declarations being built; the row's errors (nothing is added when there are any)."""
    f = Fields(row)
    employer = f.get("employer", csvreader.identifier, 5, 9, "numéro d'employeur")
    period = f.get("period", csvreader.period)
    registration = f.get("registration", csvreader.identifier, 6, 9, "matricule")
    last = f.get("last_name", csvreader.name)
    first = f.get("first_name", csvreader.name)
    birth = f.get("birth_date", csvreader.day)
    gross = f.get("gross", csvreader.decimal, maximum=MAX_AMOUNT, what="montant")
    hours = f.get("hours", csvreader.decimal, maximum=MAX_HOURS, what="heures")
    director = f.get("director", csvreader.boolean, False)
    insured = f.get("unemployment_insurance", csvreader.boolean, True)
    event = _event(f)
    f.require("employer", employer)
    f.require("period", period)
    continuation = gross is None and hours is None and not f.bad("gross") and not f.bad("hours")
    if not continuation:
        f.require("gross", gross)
        f.require("hours", hours)
    if f.errors or employer is None or period is None:
        return f.errors
    key = (employer, period)
    identity = (
        (key, registration)
        if registration
        else (key, (last or "").casefold(), (first or "").casefold(), birth)
    )
    if continuation:  # one more event for an employee on a row above
        line = by_identity.get(identity)
        if line is None:
            f.error(
                "registration",
                "CSV_CONTINUATION_ORPHAN",
                "Ligne sans brut ni heures, et aucun salarié de même identité plus haut.",
                "une ligne principale (gross et hours remplis) plus haut, même employeur, période, identité",
            )
        elif event is None:
            f.error(
                "event",
                "CSV_VALUE_REQUIRED",
                "Ligne de continuation sans événement.",
                "un événement, ou gross et hours remplis",
            )
        else:
            for column, given, current in (
                ("director", director, line.director),
                ("unemployment_insurance", insured, line.insured),
            ):
                if given is not None and given != current:
                    f.forbid(column, "différent de la ligne principale du salarié")
        if not f.errors and line is not None and event is not None:
            line.events.append(event)
        return f.errors
    line = _Line(
        row,
        gross,
        hours,
        registration,
        last,
        first,
        birth,  # type: ignore[arg-type]
        bool(director),
        True if insured is None else insured,
    )
    if event is not None:
        line.events.append(event)
    if key not in groups:
        groups[key], first_rows[key] = [], row
    groups[key].append(line)
    by_identity[identity] = line
    return []


def _event(f: Fields) -> Event | None:
    kind = f.get("event", csvreader.code, EVENT_CODES, "code d'événement")
    start = f.get("event_start", csvreader.day)
    end = f.get("event_end", csvreader.day)
    hours = f.get("event_hours", csvreader.decimal, maximum=MAX_HOURS, what="heures")
    if kind is None:
        if not f.bad("event"):
            for column, value in (("event_start", start), ("event_end", end), ("event_hours", hours)):
                if value is not None:
                    f.forbid(column, "aucun événement sur la ligne")
        return None
    return Event(_EVENT_TYPES[kind], start, end, hours, f.row.at("event"))


def _freeze(x: _Line) -> EmployeeLine:
    return EmployeeLine(
        gross=x.gross,
        hours=x.hours,
        registration=x.registration,
        last_name=x.last,
        first_name=x.first,
        birth_date=x.birth,
        director=x.director,
        unemployment_insurance=x.insured,
        events=tuple(x.events),
        location=Location(line=x.row.line),
    )
