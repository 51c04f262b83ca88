"""Golden cases: one TOML scenario per file under tests/golden/, worked out by hand in its comments.

Every amount is compared exactly (Decimal equality, and every amount must be a whole number of cents).
Every case also gives payslips (a payslip case its own; a declaration case one per employee line, paid its
gross as base pay), whose XML must be valid against payslip-result-1.xsd and carry the expected figures.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.domain import (
    ContributionLine,
    Declaration,
    ElementKind,
    EmployeeLine,
    Event,
    EventType,
    Overtime,
    PayElement,
    Payslip,
    PayslipRequest,
    Period,
)
from gateway.render.payslip_xml import NAMESPACE, check_payslip_xml, render_payslip_xml
from gateway.rules.contributions import compute_declaration
from gateway.rules.employment import employment_from_events
from gateway.rules.payslip import compute_payslip
from gateway.rules.rates import RateBook

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.toml"))
STALE_AFTER_DAYS = 400  # the configuration's default
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh, parse_float=Decimal)


def _events(raw: list[dict[str, Any]]) -> tuple[Event, ...]:
    return tuple(Event(EventType(e["type"]), e.get("start"), e.get("end")) for e in raw)


Funds = dict[str, dict[str, Decimal]]


def _by_fund(lines: list[ContributionLine], expected: Funds) -> Funds:
    """The computed lines in the shape of the expectation: fund → base, employer, employee (, ceiling)."""
    out: dict[str, dict[str, Decimal]] = {}
    for c in lines:
        assert c.amount == c.amount.quantize(CENT) and c.base == c.base.quantize(CENT), c
        row = out.setdefault(c.fund, {"base": c.base})
        assert row["base"] == c.base, f"{c.fund}: the two shares have different bases"
        row[c.share.value] = c.amount
        if "ceiling" in expected.get(c.fund, {}) and c.ceiling is not None:
            row["ceiling"] = c.ceiling
    return out


def _check_common(expected: dict[str, Any], findings: tuple[Any, ...], notes: tuple[str, ...]) -> None:
    assert sorted({f.code for f in findings}) == sorted(expected["findings"])
    for text in expected.get("notes_contain", []):
        assert any(text in n for n in notes), f"no note contains {text!r}: {notes}"


def _declaration(case: dict[str, Any], book: RateBook) -> None:
    period = Period.parse(case["period"])
    lines = tuple(
        EmployeeLine(
            gross=raw["gross"], hours=raw["hours"], registration=f"{i:07d}",
            director=raw.get("director", False),
            unemployment_insurance=raw.get("unemployment_insurance", True),
            events=_events(raw.get("events", [])),
        )
        for i, raw in enumerate(case["lines"], start=1)
    )
    employments = {i: employment_from_events(line, period) for i, line in enumerate(lines, start=1)}
    result = compute_declaration(
        Declaration("100001", period, lines), book, building_trade=case.get("building_trade", False),
        household=case.get("household", False), employments=employments, stale_after_days=STALE_AFTER_DAYS,
    )
    expected = case["expected"]
    _check_common(expected, result.findings, result.notes)
    for position, want in expected["lines"].items():
        got = _by_fund([c for c in result.lines if c.line_position == int(position)], want)
        assert got == want, f"line {position}"
    assert {c.line_position for c in result.lines} == {int(p) for p in expected["lines"]}
    totals = {t.fund: {"base": t.base, "employer": t.employer, "employee": t.employee} for t in result.totals}
    assert totals == expected["totals"]
    assert result.employer_total == expected["employer_total"]
    assert result.employee_total == expected["employee_total"]


def _payslip(case: dict[str, Any], book: RateBook) -> None:
    p = _computed_payslip(case, book)
    expected = case["expected"]
    _check_common(expected, p.findings, p.notes)
    assert [x.employee for x in p.earnings] == expected["earnings"]
    assert [x.employee for x in p.non_subject] == expected["non_subject"]
    for name in ("gross", "employee_contributions", "employer_contributions", "net", "total_cost"):
        assert getattr(p, name) == expected[name], name
    assert _by_fund(list(p.contributions), expected["contributions"]) == expected["contributions"]


def _computed_payslip(case: dict[str, Any], book: RateBook) -> Payslip:
    raw = case["request"]
    request = PayslipRequest(
        employer="100001", period=Period.parse(case["period"]), registration="0000001",
        hourly_rate=raw["hourly_rate"], hours=raw["hours"],
        overtime=tuple(Overtime(o["rate"], Decimal(o["hours"])) for o in raw.get("overtime", [])),
        elements=tuple(PayElement(ElementKind(e["kind"]), e["label"], e["amount"])
                       for e in raw.get("elements", [])),
    )
    return compute_payslip(
        request, book, employer_name="Société Exemple SAM", employer_address="1 rue Exemple, 98000 Monaco",
        employee_name="MARTIN Paul", building_trade=case.get("building_trade", False),
        household=case.get("household", False), stale_after_days=STALE_AFTER_DAYS,
    )


def _line_payslips(case: dict[str, Any], book: RateBook) -> list[tuple[Payslip, Funds]]:
    """A declaration case's lines as payslips (gross paid as base pay: 1 hour at the gross), with the
    contributions the case expects for that line: the payslip and the declaration share one computation."""
    period = Period.parse(case["period"])
    out = []
    for i, raw in enumerate(case["lines"], start=1):
        line = EmployeeLine(gross=raw["gross"], hours=raw["hours"], registration=f"{i:07d}",
                            events=_events(raw.get("events", [])))
        request = PayslipRequest(employer="100001", period=period, registration=f"{i:07d}",
                                 hourly_rate=raw["gross"], hours=Decimal("1.00"), index=i)
        p = compute_payslip(
            request, book, employer_name="Société Exemple SAM", employer_address="1 rue Exemple, 98000 Monaco",
            employee_name="MARTIN Paul", building_trade=case.get("building_trade", False),
            household=case.get("household", False), employment=employment_from_events(line, period),
            unemployment_insurance=raw.get("unemployment_insurance", True), stale_after_days=STALE_AFTER_DAYS,
        )
        out.append((p, case["expected"]["lines"][str(i)]))
    return out


def _xml_funds(root: etree._Element, expected: Funds) -> Funds:
    """The contributions of a payslip XML in the shape of the expectation, read back from the text."""
    ns = {"p": NAMESPACE}
    out: dict[str, dict[str, Decimal]] = {}
    for c in root.iterfind("p:contributions/p:contribution", ns):
        fund = c.findtext("p:fund", namespaces=ns)
        row = out.setdefault(fund, {"base": Decimal(c.findtext("p:base", namespaces=ns))})
        row[c.findtext("p:share", namespaces=ns)] = Decimal(c.findtext("p:amount", namespaces=ns))
        ceiling = c.findtext("p:ceiling", namespaces=ns)
        if "ceiling" in expected.get(fund, {}) and ceiling is not None:
            row["ceiling"] = Decimal(ceiling)
    return out


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path, book: RateBook) -> None:
    case = _load(path)
    {"declaration": _declaration, "payslip": _payslip}[case["kind"]](case, book)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_payslip_xml(path: Path, book: RateBook) -> None:
    """Valid against payslip-result-1.xsd, deterministic, and the golden figures read back from the text."""
    case = _load(path)
    if case["kind"] == "payslip":
        slips = [(_computed_payslip(case, book), case["expected"]["contributions"])]
    else:
        slips = _line_payslips(case, book)
    for p, funds in slips:
        data = render_payslip_xml(p, reference="GW-20261127-RDNSKN6Q2E-P1", test=False)
        check_payslip_xml(data)
        assert data == render_payslip_xml(p, reference="GW-20261127-RDNSKN6Q2E-P1", test=False)
        root = etree.fromstring(data)
        assert _xml_funds(root, funds) == funds
        for name in ("gross", "net", "total-cost", "employee-contributions", "employer-contributions"):
            figure = getattr(p, name.replace("-", "_"))
            assert root.findtext(f"p:{name}", namespaces={"p": NAMESPACE}) == f"{figure:.2f}", name
        if case["kind"] == "payslip":
            assert Decimal(root.findtext("p:gross", namespaces={"p": NAMESPACE})) == case["expected"]["gross"]


def test_enough_golden_cases() -> None:
    assert len(CASES) >= 15


def test_reference_date_example() -> None:
    """CSM: a contract ending 15 October uses the 1 October values (also golden case 09)."""
    assert employment_from_events(
        EmployeeLine(Decimal(0), Decimal(0), events=(Event(EventType.DEPARTURE, end=date(2024, 10, 15)),)),
        Period(2024, 10),
    ) == (date(2024, 10, 1), date(2024, 10, 15))
