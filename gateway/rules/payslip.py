"""A payslip from a payslip request: gross pay, the employee's contributions, net pay, the employer's cost.

The contributions are those of :func:`gateway.rules.contributions.employee_contributions`, the very
function declarations use. Sign conventions of the :class:`PayLine` columns:

- ``earnings`` sum to the gross: base pay (hours × hourly rate), overtime (hours × increased hourly
  rate), bonuses and benefits in kind (positive), deductions (negative);
- ``non_subject`` are added to the gross-minus-contributions to make the net: allowances (positive, not
  subject to contributions), benefits in kind taken back (negative: given in kind, not paid in cash).

net = gross − employee contributions + Σ non_subject; total cost = gross + employer contributions +
allowances. A missing rate raises :class:`RateError` (turn it into a finding with
:func:`gateway.rules.rates.missing_rate_finding`); warnings come back in ``Payslip.findings``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.domain import (
    ElementKind,
    Finding,
    PayLine,
    Payslip,
    PayslipRequest,
    Severity,
    Share,
)
from gateway.errors import RateError
from gateway.money import ZERO, format_eur, round_cents
from gateway.rules.contributions import employee_contributions, fund_notes
from gateway.rules.employment import PRORATION_NOTE, Employment
from gateway.rules.rates import RateBook, RateLookup


def compute_payslip(
    request: PayslipRequest,
    book: RateBook,
    *,
    employer_name: str,
    employer_address: str,
    employee_name: str,
    building_trade: bool,
    household: bool,
    employment: tuple[date, date] | None = None,
    stale_after_days: int,
    unemployment_insurance: bool = True,
    payment_date: date | None = None,
) -> Payslip:
    """The payslip of ``request``; ``employment`` is the span employed in the month (None: all of it)."""
    span = Employment.of(request.period, employment)
    earnings, non_subject = _earnings(request)
    gross = sum((p.employee or ZERO for p in earnings), ZERO)
    rates = RateLookup(book)
    lines = employee_contributions(
        gross, span, rates, household=household, building_trade=building_trade,
        unemployment_insurance=unemployment_insurance,
    )
    employee_total = sum((c.amount for c in lines if c.share is Share.EMPLOYEE), ZERO)
    employer_total = sum((c.amount for c in lines if c.share is Share.EMPLOYER), ZERO)
    net = gross - employee_total + sum((p.employee or ZERO for p in non_subject), ZERO)
    allowances = sum((e.amount for e in request.elements if e.kind is ElementKind.ALLOWANCE), ZERO)
    notes = [] if span.full else [PRORATION_NOTE]
    notes += fund_notes(lines, household=household, declaration=False)
    findings = rates.findings(stale_after_days, request.location)
    findings += _checks(request, book, span.applies_on, gross)
    return Payslip(
        request=request, employer_name=employer_name, employer_address=employer_address,
        employee_name=employee_name, earnings=earnings, gross=gross, contributions=lines,
        employee_contributions=employee_total, employer_contributions=employer_total,
        non_subject=non_subject, net=net, total_cost=gross + employer_total + allowances,
        payment_date=payment_date, notes=tuple(notes), findings=findings,
    )


def _earnings(request: PayslipRequest) -> tuple[tuple[PayLine, ...], tuple[PayLine, ...]]:
    rate = request.hourly_rate
    earnings = [PayLine("Salaire de base", base=request.hours, rate=rate,
                        employee=round_cents(request.hours * rate))]
    for ot in request.overtime:
        increased = rate * (1 + Decimal(ot.rate) / 100)  # +25 % → × 1,25 of the hourly rate
        earnings.append(PayLine(f"Heures supplémentaires majorées à {ot.rate} %", base=ot.hours,
                                rate=increased, employee=round_cents(ot.hours * increased)))
    non_subject = []
    for e in request.elements:
        if e.kind is ElementKind.BONUS:
            earnings.append(PayLine(e.label, employee=e.amount))
        elif e.kind is ElementKind.BENEFIT_IN_KIND:
            earnings.append(PayLine(f"{e.label} (avantage en nature)", employee=e.amount))
            non_subject.append(PayLine(f"{e.label} : avantage en nature, non versé", employee=-e.amount,
                                       subject=False))
        elif e.kind is ElementKind.DEDUCTION:
            earnings.append(PayLine(e.label, employee=-e.amount))
        else:  # allowance: paid with the net, not subject to contributions
            non_subject.append(PayLine(e.label, employee=e.amount, subject=False))
    return tuple(earnings), tuple(non_subject)


def _checks(request: PayslipRequest, book: RateBook, on: date, gross: Decimal) -> tuple[Finding, ...]:
    out = []
    if gross < 0:
        out.append(Finding(
            "PAYSLIP_NEGATIVE_GROSS",
            f"les retenues dépassent la rémunération : salaire brut de {format_eur(gross)} € ; les "
            f"cotisations sont calculées sur une assiette nulle",
            Severity.ERROR, request.location,
        ))
    try:
        minimum = book.value("minimum_wage/hourly", on)
    except RateError:  # no minimum known that far back: the check is only a warning, no figure depends on it
        return tuple(out)
    if request.hourly_rate < minimum.value:
        doubt = " (valeur non confirmée)" if minimum.unconfirmed else ""
        out.append(Finding(
            "PAY_BELOW_MINIMUM",
            f"taux horaire de {format_eur(request.hourly_rate)} € inférieur au salaire horaire minimum de "
            f"{format_eur(minimum.value)} € en vigueur depuis le {minimum.since:%d/%m/%Y}{doubt}",
            Severity.WARNING, request.location, expected=f"au moins {format_eur(minimum.value)} €",
        ))
    return tuple(out)
