"""Contributions and payslips beyond the golden cases: missing rates, proration, traceability, warnings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.domain import (
    Declaration,
    ElementKind,
    EmployeeLine,
    PayElement,
    PayslipRequest,
    Period,
    Severity,
    Share,
)
from gateway.errors import RateError
from gateway.rules.contributions import (
    FUNDS,
    REQUIRED_PARAMETERS,
    compute_declaration,
    employee_contributions,
)
from gateway.rules.employment import Employment
from gateway.rules.payslip import compute_payslip
from gateway.rules.rates import RateBook, RateLookup, missing_rate_finding

D = Decimal


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


def declaration(period: str, *grosses: str) -> Declaration:
    lines = tuple(EmployeeLine(D(g), D("169"), registration=f"{i:07d}") for i, g in enumerate(grosses, 1))
    return Declaration("100001", Period.parse(period), lines)


def test_no_rate_in_force_gives_rate_missing(book: RateBook) -> None:
    result = compute_declaration(declaration("2022-09", "3000.00"), book, building_trade=False,
                                 household=False, stale_after_days=400)
    assert result.lines == () and result.totals == ()
    (finding,) = result.findings
    assert finding.code == "RATE_MISSING" and finding.severity is Severity.ERROR
    assert "ccss/ceiling" in finding.message and "30/09/2022" in finding.message


def test_ccpb_before_its_first_rate_is_missing_not_zero(book: RateBook) -> None:
    result = compute_declaration(declaration("2022-04", "3000.00"), book, building_trade=True,
                                 household=False, stale_after_days=400)
    assert [f.code for f in result.findings] == ["RATE_MISSING"]


def test_payslip_without_rates_raises_and_converts(book: RateBook) -> None:
    request = PayslipRequest("100001", Period(2021, 5), "0000001", D("20.00"), D("100"))
    with pytest.raises(RateError) as info:
        compute_payslip(request, book, employer_name="E", employer_address="A", employee_name="N",
                        building_trade=False, household=False, stale_after_days=400)
    assert missing_rate_finding(info.value).code == "RATE_MISSING"


def test_every_line_is_traceable(book: RateBook) -> None:
    result = compute_declaration(declaration("2024-11", "40000.00"), book, building_trade=True,
                                 household=False, stale_after_days=400)
    for c in result.lines:
        assert c.fund in FUNDS and c.line_position == 1
        assert c.rate_use.value == c.rate and c.rate_use.source and c.rate_use.checked
        if c.fund != "CCPB":
            assert c.ceiling is not None and c.ceiling_use is not None
    cmrc_b = next(c for c in result.lines if c.fund == "CMRC_B" and c.share is Share.EMPLOYER)
    assert dict(cmrc_b.rate_use.components) == {
        "cmrc/tb_rights": D("0.2159"), "cmrc/tb_non_rights": D("0.0270"), "cmrc/employer_share": D("0.60")}
    assert cmrc_b.ceiling_use is not None and cmrc_b.ceiling_use.value == D("31576.00")


def test_household_line_records_the_base_fraction(book: RateBook) -> None:
    result = compute_declaration(declaration("2023-11", "2000.00"), book, building_trade=False,
                                 household=True, stale_after_days=400)
    ccss = result.lines[0]
    assert ccss.fund == "CCSS" and ccss.base_use is not None and ccss.base_use.value == D("0.33")
    assert ccss.rate_use.parameter == "ccss/household_employer"


def test_unemployment_totals_are_whole_euros(book: RateBook) -> None:
    result = compute_declaration(declaration("2024-11", "1234.56", "2345.67"), book, building_trade=False,
                                 household=False, stale_after_days=400)
    total = next(t for t in result.totals if t.fund == "UNEMPLOYMENT")
    assert total.base == D("3580.00")  # 3 580,23 → 3 580
    assert (total.employer, total.employee) == (D("145.00"), D("86.00"))  # 144,99 → 145 ; 85,92 → 86
    assert total.rate == D("0.0645")


def test_computation_uses_only_the_declared_parameters(book: RateBook) -> None:
    rates = RateLookup(book)
    for household in (False, True):
        employee_contributions(D("50000"), Employment.of(Period(2024, 11), None), rates, household=household,
                               building_trade=True)
    used = {name for name, _ in rates.used}
    assert used <= set(REQUIRED_PARAMETERS)
    assert set(REQUIRED_PARAMETERS) <= set(book.parameters)


def test_every_value_behind_a_line_has_its_own_french_label(book: RateBook) -> None:
    """The acknowledgement lists these by label: each one labelled, no two identifiers sharing a label."""
    labels: dict[str, str] = {}
    for household in (False, True):
        lines = employee_contributions(D("50000"), Employment.of(Period(2024, 11), None), RateLookup(book),
                                       household=household, building_trade=True)
        for use in (u for line in lines for u in (line.rate_use, line.ceiling_use, line.base_use) if u):
            assert use.label and "/" not in use.label, use.parameter
            assert labels.setdefault(use.label, use.parameter) == use.parameter, use.label
    assert {"Plafond CMRC tranche B", "Taux CMRC tranche A patronal", "Taux CMRC tranche B salarial",
            "Assiette CCSS gens de maison", "Taux CCSS gens de maison", "Taux CCSS patronal"} <= set(labels)


def test_proration_is_by_calendar_days() -> None:
    feb = Employment.of(Period(2024, 2), (date(2024, 2, 15), date(2024, 3, 31)))  # clipped to the month
    assert (feb.start, feb.end, feb.days, feb.full) == (date(2024, 2, 15), date(2024, 2, 29), 15, False)
    assert feb.prorate(D("3864.00")) == D("1998.62")  # 3 864 × 15/29 = 1 998,620…
    assert Employment.of(Period(2024, 2), None).prorate(D("3864.00")) == D("3864.00")
    with pytest.raises(ValueError):
        Employment.of(Period(2024, 2), (date(2024, 3, 1), date(2024, 3, 5)))


def payslip(book: RateBook, hourly: str, *elements: PayElement):  # type: ignore[no-untyped-def]
    request = PayslipRequest("100001", Period(2024, 11), "0000001", D(hourly), D("151.67"), elements=elements)
    return compute_payslip(request, book, employer_name="E", employer_address="A", employee_name="N",
                           building_trade=False, household=False, stale_after_days=400)


def test_pay_below_the_minimum_wage_is_a_warning(book: RateBook) -> None:
    p = payslip(book, "11.00")
    (warning,) = [f for f in p.findings if f.code == "PAY_BELOW_MINIMUM"]
    assert warning.severity is Severity.WARNING and "11,88" in warning.message


def test_deductions_above_pay_are_an_error_not_negative_contributions(book: RateBook) -> None:
    p = payslip(book, "1.00", PayElement(ElementKind.DEDUCTION, "Retenue", D("500.00")))
    assert p.gross == D("-348.33")
    assert "PAYSLIP_NEGATIVE_GROSS" in {f.code for f in p.findings}
    assert all(c.amount == 0 for c in p.contributions)
