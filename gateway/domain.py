"""Frozen values passed between the stages: what a file says, once read, and what was found wrong with it.

XML and CSV readers produce exactly these values; the rules, the store and the renderers consume them.
Amounts are ``Decimal``; dates are ``datetime.date``; nothing here does I/O.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A month of declaration, written ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """``YYYY-MM``; raises ValueError otherwise."""
        m = _PERIOD.match(text)
        if not m:
            raise ValueError(f"période invalide: {text!r} (attendu AAAA-MM)")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is in an uploaded file.

    ``line``/``column`` are 1-based. For XML, ``xpath`` is set (``/declarations/declaration[2]/employee[5]``);
    for CSV, ``field`` is the column name.
    """

    line: int | None = None
    column: int | None = None
    xpath: str | None = None
    field: str | None = None

    def describe(self) -> str:
        """French, for people: ``ligne 12, colonne 3 (/declarations/declaration[1])``."""
        parts = []
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.field:
            parts.append(f"colonne « {self.field} »")
        elif self.column is not None:
            parts.append(f"colonne {self.column}")
        text = ", ".join(parts)
        if self.xpath:
            text = f"{text} ({self.xpath})" if text else self.xpath
        return text


NOWHERE = Location()


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in an uploaded file: a stable code (see docs/errors.md), a French message."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    location: Location = NOWHERE
    expected: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class EventType(StrEnum):
    HIRE = "hire"
    DEPARTURE = "departure"
    SICKNESS = "sickness"
    MATERNITY = "maternity"
    PATERNITY = "paternity"
    WORK_ACCIDENT = "work-accident"
    UNPAID_LEAVE = "unpaid-leave"
    NOTICE = "notice"
    PAID_LEAVE = "paid-leave"


EVENT_LABELS_FR: dict[EventType, str] = {
    EventType.HIRE: "Début de contrat",
    EventType.DEPARTURE: "Fin de contrat",
    EventType.SICKNESS: "Maladie",
    EventType.MATERNITY: "Maternité",
    EventType.PATERNITY: "Paternité",
    EventType.WORK_ACCIDENT: "Accident du travail",
    EventType.UNPAID_LEAVE: "Congé sans solde",
    EventType.NOTICE: "Préavis non effectué",
    EventType.PAID_LEAVE: "Congés payés",
}


@dataclass(frozen=True, slots=True)
class Event:
    type: EventType
    start: date | None = None
    end: date | None = None
    hours: Decimal | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class EmployeeLine:
    """One employee of a declaration: known by ``registration``, or new (names and birth date)."""

    gross: Decimal
    hours: Decimal
    registration: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    birth_date: date | None = None
    director: bool = False
    unemployment_insurance: bool = True
    events: tuple[Event, ...] = ()
    location: Location = NOWHERE

    @property
    def identity(self) -> str:
        """What identifies the line in messages: the registration, or ``NOM Prénom (date)``."""
        if self.registration:
            return self.registration
        born = self.birth_date.isoformat() if self.birth_date else "?"
        return f"{self.last_name or '?'} {self.first_name or '?'} ({born})"


@dataclass(frozen=True, slots=True)
class Totals:
    employees: int
    gross: Decimal
    hours: Decimal
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Declaration:
    """One employer and one period: the lines as sent, in order."""

    employer: str
    period: Period
    lines: tuple[EmployeeLine, ...]
    totals: Totals | None = None
    index: int = 1  # 1-based position in the file
    location: Location = NOWHERE

    @property
    def total_gross(self) -> Decimal:
        return sum((line.gross for line in self.lines), Decimal("0.00"))

    @property
    def total_hours(self) -> Decimal:
        return sum((line.hours for line in self.lines), Decimal("0.00"))


class FileKind(StrEnum):
    DECLARATION = "declaration"
    PAYSLIP = "payslip"


class FileFormat(StrEnum):
    XML = "xml"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class DeclarationFile:
    declarations: tuple[Declaration, ...]
    test: bool = False
    software: str | None = None
    created: datetime | None = None
    format: FileFormat = FileFormat.XML


class ElementKind(StrEnum):
    BONUS = "bonus"
    BENEFIT_IN_KIND = "benefit-in-kind"
    ALLOWANCE = "allowance"
    DEDUCTION = "deduction"


@dataclass(frozen=True, slots=True)
class Overtime:
    rate: int  # 25 or 50 (per cent)
    hours: Decimal


@dataclass(frozen=True, slots=True)
class PayElement:
    kind: ElementKind
    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PayslipRequest:
    employer: str
    period: Period
    registration: str
    hourly_rate: Decimal
    hours: Decimal
    overtime: tuple[Overtime, ...] = ()
    elements: tuple[PayElement, ...] = ()
    index: int = 1
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class PayslipFile:
    requests: tuple[PayslipRequest, ...]
    test: bool = False
    format: FileFormat = FileFormat.XML


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a reader returns: the value when the file could be read, and the findings either way.

    ``value`` is None when the file is refused as a whole (not well formed, not valid against its schema).
    ``total_findings`` may exceed ``len(findings)``: at most 100 are kept per file.
    """

    kind: FileKind | None
    value: DeclarationFile | PayslipFile | None
    findings: tuple[Finding, ...] = ()
    total_findings: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.value is not None and not any(f.is_error for f in self.findings)


# --- Results: contributions, payslips, acknowledgements -------------------------------------------


class Share(StrEnum):
    EMPLOYER = "employer"
    EMPLOYEE = "employee"


@dataclass(frozen=True, slots=True)
class RateUse:
    """Which dated value a figure came from: parameter name, the date it is in force from, its source."""

    parameter: str
    since: date
    value: Decimal
    source: str
    unconfirmed: bool = False
    checked: date | None = None
    components: tuple[tuple[str, Decimal], ...] = ()  # named parts (CCSS + OMT + CGCS) or inputs of a derived value
    label: str = ""  # for people, in French (« Plafond CAR »); the parameter name stays the identifier


@dataclass(frozen=True, slots=True)
class ContributionLine:
    """One amount of one fund and share for one employee line: amount = round(base × rate)."""

    fund: str  # CCSS, CAR, UNEMPLOYMENT, CMRC_A, CMRC_B, CCPB (see gateway.rules.contributions.FUNDS)
    share: Share
    base: Decimal
    rate: Decimal  # a fraction: 0.0685 for 6,85 %
    amount: Decimal
    rate_use: RateUse
    ceiling: Decimal | None = None  # the (prorated) ceiling applied, None when the base is not capped
    ceiling_use: RateUse | None = None
    line_position: int | None = None  # position of the employee line in the declaration
    base_use: RateUse | None = None  # a parameter that shaped the base (household: CCSS base = 33 % of gross)


@dataclass(frozen=True, slots=True)
class FundTotal:
    """Total of one fund over a declaration (or payslip): summed base and rounded lines."""

    fund: str
    label: str  # French, e.g. "CAR – retraite de base"
    base: Decimal
    rate: Decimal | None  # None when the lines do not share one rate
    employer: Decimal
    employee: Decimal


@dataclass(frozen=True, slots=True)
class ContributionResult:
    lines: tuple[ContributionLine, ...]
    totals: tuple[FundTotal, ...]
    findings: tuple[Finding, ...] = ()  # warnings (stale or unconfirmed rates); errors when no rate is in force
    notes: tuple[str, ...] = ()  # French notes for documents (annual regularisation of prorated ceilings, ...)

    @property
    def employer_total(self) -> Decimal:
        return sum((t.employer for t in self.totals), Decimal("0.00"))

    @property
    def employee_total(self) -> Decimal:
        return sum((t.employee for t in self.totals), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class PayLine:
    """A line of a payslip: label, base × rate = amount, in the employee and/or employer column."""

    label: str
    base: Decimal | None = None
    rate: Decimal | None = None  # fraction (or multiplier for overtime, e.g. 1.25)
    employee: Decimal | None = None  # positive = paid to the employee / withheld, as the section says
    employer: Decimal | None = None
    subject: bool = True  # subject to contributions
    rate_use: RateUse | None = None


@dataclass(frozen=True, slots=True)
class Payslip:
    """A computed payslip: every figure traceable to a base, a rate and a dated value."""

    request: PayslipRequest
    employer_name: str
    employer_address: str
    employee_name: str
    earnings: tuple[PayLine, ...]  # base pay, overtime, bonuses, benefits in kind, deductions
    gross: Decimal
    contributions: tuple[ContributionLine, ...]
    employee_contributions: Decimal
    employer_contributions: Decimal
    non_subject: tuple[PayLine, ...]  # allowances (added to net), benefits in kind (taken back from net)
    net: Decimal
    total_cost: Decimal
    payment_date: date | None = None
    notes: tuple[str, ...] = ()
    job: str | None = None  # emploi, a mandatory mention of the payslip (AM n° 58-150) when known
    qualification: str | None = None  # qualification and coefficient, when known
    findings: tuple[Finding, ...] = ()  # warnings: stale or unconfirmed rates, pay below the minimum wage


class Outcome(StrEnum):
    """Overall status of an upload, as the acknowledgement says it."""

    ACCEPTED = "accepted"
    PARTLY_ACCEPTED = "partly-accepted"
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    FAILED = "failed"  # technical error: the file is parked, quote the reference


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AckDeclaration:
    index: int
    employer: str
    period: str
    status: ItemStatus
    employees: int
    total_gross: Decimal
    total_hours: Decimal
    reference: str | None = None
    late: bool = False
    funds: tuple[FundTotal, ...] = ()
    findings: tuple[Finding, ...] = ()
    employer_name: str | None = None  # only for employers the subscriber is assigned to


@dataclass(frozen=True, slots=True)
class AckPayslip:
    index: int
    employer: str
    period: str
    registration: str
    status: ItemStatus
    gross: Decimal | None = None
    net: Decimal | None = None
    document: str | None = None  # outbox-relative path of the payslip PDF
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class AppliedValue:
    """A dated value the figures of an acknowledgement were computed with: what, how much, since, whence."""

    parameter: str  # e.g. "car/employer", or a formula of parameters ("cmrc/ta_ceiling × cmrc/tb_factor")
    since: date
    value: Decimal
    unit: str  # rate | amount | fraction | factor | flag | hours
    source: str
    unconfirmed: bool = False
    components: tuple[tuple[str, Decimal], ...] = ()
    label: str = ""  # for people, in French (« Taux CMRC tranche A patronal »); "" in verdicts stored before


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Everything an accusé de réception says; rendered to XML and PDF without further computation."""

    reference: str
    subscriber: str
    file_name: str
    size: int
    sha256: str
    received_at: datetime
    processed_at: datetime
    outcome: Outcome
    kind: FileKind | None = None
    test: bool = False
    declarations: tuple[AckDeclaration, ...] = ()
    payslips: tuple[AckPayslip, ...] = ()
    findings: tuple[Finding, ...] = ()  # file-level findings (format, schema, identification)
    total_findings: int = 0
    duplicate_of: str | None = None  # reference of the earlier upload with the same bytes
    notes: tuple[str, ...] = ()
    rates: tuple[AppliedValue, ...] = ()  # every dated rate and ceiling the figures come from
