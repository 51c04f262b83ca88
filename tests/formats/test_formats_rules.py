"""The declaration and payslip rules, offline and against an in-memory view of the records."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import pytest
from conftest import DATA

from gateway import formats
from gateway.domain import (
    Declaration,
    DeclarationFile,
    ElementKind,
    EmployeeLine,
    Event,
    EventType,
    Location,
    Overtime,
    PayElement,
    PayslipFile,
    PayslipRequest,
    Period,
    Totals,
)
from gateway.rules import declaration_rules, payslip_rules
from gateway.rules.context import CheckContext
from gateway.rules.view import KnownEmployee

NOV = Period(2026, 11)
OPEN_DAY = date(2026, 11, 25)
CTX = CheckContext(today=OPEN_DAY, subscriber="10001")


@dataclass
class FakeView:
    """Subscriber 10001 declares for employer 104512; employee 2001234 works there since 2020."""

    assigned: set[tuple[str, str]] = field(default_factory=lambda: {("10001", "104512")})
    declared: set[tuple[str, Period]] = field(default_factory=set)
    employees: dict[str, KnownEmployee] = field(
        default_factory=lambda: {
            "2001234": KnownEmployee("2001234", "DUPONT", "Hélène", date(1980, 5, 1)),
            "2009876": KnownEmployee("2009876", "MARTIN", "Paul", None),
        }
    )
    employments: dict[tuple[str, str], tuple[date, date | None]] = field(
        default_factory=lambda: {
            ("104512", "2001234"): (date(2020, 1, 1), None),
        }
    )

    def is_assigned(self, subscriber: str, employer: str, on: date) -> bool:
        return (subscriber, employer) in self.assigned

    def has_declaration(self, employer: str, period: Period) -> bool:
        return (employer, period) in self.declared

    def employee(self, registration: str) -> KnownEmployee | None:
        return self.employees.get(registration)

    def is_employed(self, employer: str, registration: str, on: date) -> bool:
        span = self.employments.get((employer, registration))
        return span is not None and span[0] <= on and (span[1] is None or on <= span[1])


def line(registration: str | None = "2001234", *events: Event, **kw: object) -> EmployeeLine:
    return EmployeeLine(
        gross=Decimal("1000.00"),
        hours=Decimal("100.00"),
        registration=registration,
        events=events,
        location=Location(line=7, xpath="/declarations/declaration[1]/employee[1]"),
        **kw,
    )  # type: ignore[arg-type]


def decl(*lines: EmployeeLine, period: Period = NOV, employer: str = "104512", **kw: object) -> Declaration:
    return Declaration(
        employer=employer,
        period=period,
        lines=lines,
        location=Location(line=3, xpath="/declarations/declaration[1]"),
        **kw,
    )  # type: ignore[arg-type]


def codes(d: Declaration, ctx: CheckContext = CTX, view: object = None) -> list[str]:
    verdict = declaration_rules.check_declaration(d, ctx, view)  # type: ignore[arg-type]
    return [f.code for f in verdict.findings]


def test_example_files_pass_every_offline_rule() -> None:
    for name in ("declaration-valid.xml", "declaration-valid.csv"):
        result = formats.read((DATA / name).read_bytes(), name)
        assert all(v.accepted and not v.findings for v in formats.check(result, CTX))


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (Event(EventType.HIRE), "DECL_EVENT_DATE_MISSING"),
        (Event(EventType.HIRE, date(2026, 11, 2), date(2026, 11, 3)), "DECL_EVENT_DATE_NOT_ALLOWED"),
        (Event(EventType.HIRE, date(2026, 10, 31)), "DECL_EVENT_OUTSIDE_PERIOD"),
        (Event(EventType.DEPARTURE, None, date(2026, 12, 1)), "DECL_EVENT_OUTSIDE_PERIOD"),
        (Event(EventType.DEPARTURE, date(2026, 11, 2), date(2026, 11, 3)), "DECL_EVENT_DATE_NOT_ALLOWED"),
        (Event(EventType.SICKNESS, date(2026, 11, 2)), "DECL_EVENT_DATE_MISSING"),
        (Event(EventType.SICKNESS, date(2026, 11, 5), date(2026, 11, 2)), "DECL_EVENT_END_BEFORE_START"),
        (Event(EventType.MATERNITY, date(2026, 9, 1), date(2026, 10, 31)), "DECL_EVENT_OUTSIDE_PERIOD"),
        (
            Event(EventType.NOTICE, date(2026, 11, 1), date(2026, 11, 2), Decimal(7)),
            "DECL_EVENT_HOURS_NOT_ALLOWED",
        ),
    ],
)
def test_event_date_rules(event: Event, code: str) -> None:
    event = replace(
        event, location=Location(line=9, xpath="/declarations/declaration[1]/employee[1]/event[1]")
    )
    found = declaration_rules.check_declaration(decl(line("2001234", event)), CTX).findings
    assert [f.code for f in found] == [code]
    assert found[0].location.xpath is not None and found[0].location.xpath.startswith(
        "/declarations/declaration[1]/employee[1]/event[1]"
    )


def test_events_overlapping_the_period_are_fine() -> None:
    ok = [
        Event(EventType.SICKNESS, date(2026, 10, 20), date(2026, 12, 5)),
        Event(EventType.PAID_LEAVE, date(2026, 11, 2), date(2026, 11, 6), Decimal(35)),
        Event(EventType.DEPARTURE, None, date(2026, 11, 30)),
    ]
    assert codes(decl(line("2001234", *ok))) == []


def test_identity_duplicates_and_age() -> None:
    new = line(None, last_name="MARTIN", first_name="Paul", birth_date=date(1994, 6, 30))
    assert codes(decl(replace(new, first_name=None))) == ["DECL_IDENTITY_MISSING"]
    assert codes(decl(line(), line())) == ["DECL_DUPLICATE_EMPLOYEE"]
    assert codes(decl(new, replace(new, last_name="Martin"))) == ["DECL_DUPLICATE_EMPLOYEE"]
    assert codes(decl(replace(new, birth_date=date(2013, 1, 1)))) == ["DECL_AGE_IMPLAUSIBLE"]
    assert codes(decl(replace(new, birth_date=date(2012, 11, 30)))) == []  # 14 on the last day
    assert codes(decl(replace(new, birth_date=date(1925, 1, 1)))) == ["DECL_AGE_IMPLAUSIBLE"]


def test_totals_must_match() -> None:
    where = Location(line=20, xpath="/declarations/declaration[1]/totals")
    good = Totals(2, Decimal("2000.00"), Decimal("200.00"), where)
    assert codes(decl(line(), line("2009876"), totals=good)) == []
    bad = decl(line(), line("2009876"), totals=Totals(3, Decimal("2000.01"), Decimal("200.00"), where))
    found = declaration_rules.check_declaration(bad, CTX).findings
    assert [(f.code, f.location.xpath, f.expected) for f in found] == [
        ("DECL_TOTALS_MISMATCH", "/declarations/declaration[1]/totals/@employees", "2"),
        ("DECL_TOTALS_MISMATCH", "/declarations/declaration[1]/totals/@gross", "2000.00"),
    ]


def test_period_opens_on_the_setting_and_late_is_a_warning() -> None:
    d = decl(line())
    assert codes(d, replace(CTX, today=date(2026, 11, 19))) == ["DECL_PERIOD_NOT_OPEN"]
    assert codes(d, replace(CTX, today=date(2026, 11, 20))) == []
    not_yet = declaration_rules.check_declaration(
        d, replace(CTX, today=date(2026, 11, 24), period_open_day=25)
    )
    assert "25/11/2026" in not_yet.findings[0].message
    assert codes(d, replace(CTX, today=date(2026, 12, 10))) == []
    late = declaration_rules.check_declaration(d, replace(CTX, today=date(2026, 12, 11)))
    assert late.accepted and late.late and [f.code for f in late.findings] == ["DECL_LATE"]


def test_each_declaration_judged_on_its_own() -> None:
    file = DeclarationFile(
        (decl(line()), replace(decl(line(), line()), index=2), replace(decl(line()), index=3))
    )
    verdicts = declaration_rules.check_file(file, CTX)
    assert [v.accepted for v in verdicts] == [True, False, False]
    assert verdicts[2].findings[0].code == "DECL_DUPLICATE_IN_FILE"


def test_not_assigned_reveals_nothing() -> None:
    view = FakeView()
    unknown = codes(decl(line(), employer="999999"), view=view)
    view.declared.add(("777777", NOV))
    view.employments[("777777", "2001234")] = (date(2020, 1, 1), None)
    existing = declaration_rules.check_declaration(decl(line(), employer="777777"), CTX, view).findings
    assert unknown == [f.code for f in existing] == ["DECL_EMPLOYER_NOT_ASSIGNED"]
    other = declaration_rules.check_declaration(decl(line(), employer="999999"), CTX, view).findings
    assert existing[0].message.replace("777777", "X") == other[0].message.replace("999999", "X")


def test_record_rules() -> None:
    view = FakeView()
    assert codes(decl(line()), view=view) == []
    view.declared.add(("104512", NOV))
    assert codes(decl(line()), view=view) == ["DECL_PERIOD_ALREADY_DECLARED"]
    view.declared.clear()
    assert codes(decl(line("3000000")), view=view) == ["DECL_REGISTRATION_UNKNOWN"]
    assert codes(decl(line(last_name="Dupont", first_name="HELENE")), view=view) == []  # case, accents
    assert codes(decl(line(last_name="DURAND")), view=view) == ["DECL_NAME_MISMATCH"]
    assert codes(decl(line(birth_date=date(1980, 5, 2))), view=view) == ["DECL_BIRTH_DATE_MISMATCH"]
    hire = Event(EventType.HIRE, date(2026, 11, 2))
    assert codes(decl(line("2001234", hire)), view=view) == ["DECL_HIRE_ALREADY_EMPLOYED"]
    assert codes(decl(line("2009876", hire)), view=view) == []
    leave = Event(EventType.DEPARTURE, None, date(2026, 11, 30))
    assert codes(decl(line("2009876", leave)), view=view) == ["DECL_DEPARTURE_NOT_EMPLOYED"]
    assert codes(decl(line("2009876", hire, leave)), view=view) == []  # hired and gone in the month
    assert codes(decl(line("2001234", leave)), view=view) == []


def test_offline_runs_no_record_rule() -> None:
    assert codes(decl(line("3000000")), replace(CTX, subscriber=None), FakeView()) == []


def request(**kw: object) -> PayslipRequest:
    base: dict[str, object] = {
        "employer": "104512",
        "period": NOV,
        "registration": "2001234",
        "hourly_rate": Decimal("19.50"),
        "hours": Decimal("151.67"),
        "location": Location(line=2, xpath="/payslip-requests/payslip[1]"),
    }
    base.update(kw)
    return PayslipRequest(**base)  # type: ignore[arg-type]


def pcodes(*requests: PayslipRequest, view: object = None) -> list[list[str]]:
    verdicts = payslip_rules.check_file(PayslipFile(requests), CTX, view)  # type: ignore[arg-type]
    return [[f.code for f in v.findings] for v in verdicts]


def test_payslip_rules() -> None:
    assert pcodes(request()) == [[]]
    assert pcodes(request(), request(index=2)) == [[], ["PAYSLIP_DUPLICATE"]]
    assert pcodes(request(overtime=(Overtime(30, Decimal(2)),))) == [["PAYSLIP_OVERTIME_RATE"]]
    cut = PayElement(ElementKind.DEDUCTION, "Absence", Decimal("5000.00"))
    assert pcodes(request(elements=(cut,))) == [["PAYSLIP_NEGATIVE_GROSS"]]
    view = FakeView()
    assert pcodes(request(), view=view) == [[]]
    assert pcodes(request(employer="999999"), view=view) == [["PAYSLIP_EMPLOYER_NOT_ASSIGNED"]]
    assert pcodes(request(registration="3000000"), view=view) == [["PAYSLIP_REGISTRATION_UNKNOWN"]]
    assert pcodes(request(registration="2009876"), view=view) == [["PAYSLIP_NOT_IN_WORKFORCE"]]
    view.employments[("104512", "2009876")] = (date(2026, 11, 10), date(2026, 11, 12))
    assert pcodes(request(registration="2009876"), view=view) == [[]]
