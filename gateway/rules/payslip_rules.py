"""The payslip request rules, as pure functions: each request of a file is judged on its own.

Offline: overtime rates, a request given twice, a gross pay that would be negative. With the records:
the subscriber is assigned to the employer (same answer whether the employer exists or not), the
registration is known, and the employee is in the employer's workforce at some day of the period.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from gateway.codes import MAX_FINDINGS, finding
from gateway.domain import ElementKind, Finding, Location, PayslipFile, PayslipRequest
from gateway.rules.context import CheckContext, Verdict
from gateway.rules.view import RecordsView

OVERTIME_RATES = (25, 50)


def check_file(file: PayslipFile, ctx: CheckContext, view: RecordsView | None = None) -> tuple[Verdict, ...]:
    seen: dict[tuple[str, str, str], int] = {}
    verdicts = []
    for request in file.requests:
        key = (request.employer, str(request.period), request.registration)
        earlier = seen.setdefault(key, request.index)
        found = list(offline_rules(request, earlier if earlier != request.index else None))
        if view is not None and ctx.subscriber is not None:
            found += record_rules(request, ctx, view)
        verdicts.append(Verdict(request.index, tuple(found[:MAX_FINDINGS]), len(found)))
    return tuple(verdicts)


def offline_rules(request: PayslipRequest, duplicate_of: int | None = None) -> Iterator[Finding]:
    if duplicate_of is not None:
        yield finding(
            "PAYSLIP_DUPLICATE",
            f"Bulletin du salarié {request.registration} pour {request.period} déjà demandé dans ce "
            f"fichier (demande n° {duplicate_of}).",
            _at(request.location, "@registration", "registration"),
            "une demande par salarié, employeur et période",
        )
    for overtime in request.overtime:
        if overtime.rate not in OVERTIME_RATES:
            yield finding(
                "PAYSLIP_OVERTIME_RATE",
                f"Majoration de {overtime.rate} % inconnue.",
                _at(request.location, "overtime", "overtime_25_hours"),
                "25 ou 50",
            )
    gross = gross_estimate(request)
    if gross < 0:
        yield finding(
            "PAYSLIP_NEGATIVE_GROSS",
            f"Les retenues dépassent la rémunération : salaire brut de {gross:.2f} €.",
            _at(request.location, "element", "element_amount"),
            "un salaire brut positif ou nul",
        )


def gross_estimate(request: PayslipRequest) -> Decimal:
    """Base pay + overtime + bonuses + benefits in kind − deductions, unrounded (the sign is what matters)."""
    total = request.hourly_rate * request.hours
    for ot in request.overtime:
        total += request.hourly_rate * ot.hours * (100 + ot.rate) / 100
    for element in request.elements:
        if element.kind in (ElementKind.BONUS, ElementKind.BENEFIT_IN_KIND):
            total += element.amount
        elif element.kind is ElementKind.DEDUCTION:
            total -= element.amount
    return total


def record_rules(request: PayslipRequest, ctx: CheckContext, view: RecordsView) -> list[Finding]:
    assert ctx.subscriber is not None
    if not view.is_assigned(ctx.subscriber, request.employer, ctx.today):
        return [
            finding(
                "PAYSLIP_EMPLOYER_NOT_ASSIGNED",
                f"Vous n'êtes pas autorisé à demander des bulletins pour l'employeur {request.employer}.",
                _at(request.location, "@employer", "employer"),
                "un employeur rattaché à votre compte",
            )
        ]
    if view.employee(request.registration) is None:
        return [
            finding(
                "PAYSLIP_REGISTRATION_UNKNOWN",
                f"Le matricule {request.registration} n'est pas connu des Caisses Sociales.",
                _at(request.location, "@registration", "registration"),
                "le matricule d'un salarié immatriculé",
            )
        ]
    if not in_workforce(view, request):
        return [
            finding(
                "PAYSLIP_NOT_IN_WORKFORCE",
                f"Le salarié {request.registration} n'est pas dans l'effectif de l'employeur "
                f"{request.employer} en {request.period}.",
                _at(request.location, "@registration", "registration"),
                "un salarié employé au moins un jour de la période",
            )
        ]
    return []


def in_workforce(view: RecordsView, request: PayslipRequest) -> bool:
    """Employed on at least one day of the period (the usual cases answer in one or two questions)."""
    p = request.period
    days = [p.last_day, p.first_day] + [p.first_day + timedelta(days=n) for n in range(1, p.days - 1)]
    return any(view.is_employed(request.employer, request.registration, d) for d in days)


def _at(loc: Location, xml: str, csv: str) -> Location:
    if loc.xpath is not None:
        return replace(loc, xpath=f"{loc.xpath}/{xml}")
    return replace(loc, field=csv, column=None)
