"""Contributions of one employee line, and of a whole declaration, per fund and share, to the cent.

One function computes an employee's lines (:func:`employee_contributions`); declarations and payslips both
call it. Every line is ``amount = round_cents(base × rate)`` with its base, the (prorated) ceiling applied
and the dated values used; totals are sums of rounded lines, except unemployment insurance, whose total
base and contributions are rounded to the euro at the declaration level (CSM « Cotisations »).

Where the reference is silent (decisions, see gateway/rates/README.md):
- CMRC: one line per tranche and share at (rights + non-rights) × share, the parts kept in the RateUse.
- Tranche B: base = min(gross, prorated 8 × TA) − prorated TA, never below zero.
- Household employers: CCSS base = round_cents(gross × 33 %), then capped by the CCSS ceiling.
- Salaried directors: computed as any employee; unemployment insurance follows the line's own
  ``unemployment_insurance`` attribute (France Travail decides the cover), never the director flag.
- A negative gross (deductions above pay) contributes on a base of zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from gateway.domain import (
    ContributionLine,
    ContributionResult,
    Declaration,
    EventType,
    FundTotal,
    RateUse,
    Share,
)
from gateway.errors import RateError
from gateway.money import ZERO, round_cents, round_euros
from gateway.rules.employment import PRORATION_NOTE, Employment
from gateway.rules.rates import RateBook, RateLookup, missing_rate_finding

FUNDS: dict[str, str] = {
    "CCSS": "CCSS – maladie, maternité, invalidité, décès, prestations familiales",
    "CAR": "CAR – retraite de base",
    "UNEMPLOYMENT": "Assurance chômage",
    "CMRC_A": "CMRC – retraite complémentaire, tranche A",
    "CMRC_B": "CMRC – retraite complémentaire, tranche B",
    "CCPB": "CCPB – congés payés du bâtiment",
}

UNEMPLOYMENT_ROUNDING_NOTE = (
    "Assurance chômage : l'assiette totale et les cotisations sont arrondies à l'euro au niveau de la "
    "déclaration (règle CSM) ; le détail par salarié est donné au centime."
)
HOUSEHOLD_NOTE = (
    "Employeur de gens de maison : assiette CCSS = 33 % du salaire brut, sans CGCS ; CAR et CMRC sur le "
    "brut entier."
)
CCPB_NOTE = (
    "CCPB : calculée en part employeur seule, sur le brut entier, sans plafond (assiette et répartition "
    "non confirmées par la CSM)."
)
CMRC_ABSENCE_NOTE = (
    "CMRC : la règle du plafond annuel pour une année sans mois validé (maladie, maternité, paternité, "
    "accident du travail, congé sans solde ; AM n° 2024-635, art. 3 bis) n'est pas appliquée au calcul "
    "mensuel."
)
REQUIRED_PARAMETERS: tuple[str, ...] = (  # every parameter the computation looks up (checked by a test)
    "ccss/ceiling", "ccss/employer", "ccss/household_employer", "ccss/household_base_fraction",
    "car/ceiling", "car/employer", "car/employee",
    "unemployment/ceiling", "unemployment/employer", "unemployment/employee",
    "cmrc/declared", "cmrc/ta_ceiling", "cmrc/tb_factor", "cmrc/ta_rights", "cmrc/ta_non_rights",
    "cmrc/tb_rights", "cmrc/tb_non_rights", "cmrc/employer_share", "cmrc/employee_share",
    "ccpb/employer", "minimum_wage/hourly",
)
_ABSENCES = {EventType.SICKNESS, EventType.MATERNITY, EventType.PATERNITY, EventType.WORK_ACCIDENT,
             EventType.UNPAID_LEAVE}
_CMRC_TRANCHES = (("CMRC_A", "cmrc/ta_rights", "cmrc/ta_non_rights", "tranche A"),
                  ("CMRC_B", "cmrc/tb_rights", "cmrc/tb_non_rights", "tranche B"))
_CMRC_SHARES = ((Share.EMPLOYER, "cmrc/employer_share", "patronal"),
                (Share.EMPLOYEE, "cmrc/employee_share", "salarial"))


def employee_contributions(
    gross: Decimal,
    employment: Employment,
    rates: RateLookup,
    *,
    household: bool,
    building_trade: bool,
    unemployment_insurance: bool = True,
    position: int | None = None,
) -> tuple[ContributionLine, ...]:
    """Every fund and share for one employee's gross pay of one month; RateError if a value is missing."""
    on = employment.applies_on
    pay = max(gross, ZERO)
    out: list[ContributionLine] = []

    def add(fund: str, share: Share, base: Decimal, rate: RateUse, ceiling: Decimal | None = None,
            ceiling_use: RateUse | None = None, base_use: RateUse | None = None) -> None:
        out.append(ContributionLine(fund, share, base, rate.value, round_cents(base * rate.value), rate,
                                    ceiling, ceiling_use, position, base_use))

    def capped(parameter: str) -> tuple[Decimal, RateUse]:
        use = rates.get(parameter, on)
        ceiling = employment.prorate(use.value)
        return ceiling, use

    ceiling, ceiling_use = capped("ccss/ceiling")
    if household:
        fraction = rates.get("ccss/household_base_fraction", on)
        add("CCSS", Share.EMPLOYER, min(round_cents(pay * fraction.value), ceiling),
            rates.get("ccss/household_employer", on), ceiling, ceiling_use, fraction)
    else:
        add("CCSS", Share.EMPLOYER, min(pay, ceiling), rates.get("ccss/employer", on), ceiling, ceiling_use)

    ceiling, ceiling_use = capped("car/ceiling")
    for share in Share:
        add("CAR", share, min(pay, ceiling), rates.get(f"car/{share.value}", on), ceiling, ceiling_use)

    if unemployment_insurance:
        ceiling, ceiling_use = capped("unemployment/ceiling")
        for share in Share:
            add("UNEMPLOYMENT", share, min(pay, ceiling), rates.get(f"unemployment/{share.value}", on),
                ceiling, ceiling_use)

    if rates.get("cmrc/declared", on).value == 1:
        ta_ceiling, ta_use = capped("cmrc/ta_ceiling")
        factor = rates.get("cmrc/tb_factor", on)
        tb_use = derived("cmrc/ta_ceiling × cmrc/tb_factor", ta_use.value * factor.value, (ta_use, factor),
                         label="Plafond CMRC tranche B")
        tb_ceiling = employment.prorate(tb_use.value)
        bases = {"CMRC_A": (min(pay, ta_ceiling), ta_ceiling, ta_use),
                 "CMRC_B": (max(min(pay, tb_ceiling) - ta_ceiling, ZERO), tb_ceiling, tb_use)}
        for fund, rights_name, non_rights_name, tranche in _CMRC_TRANCHES:
            rights, non_rights = rates.get(rights_name, on), rates.get(non_rights_name, on)
            base, ceiling, ceiling_use = bases[fund]
            for share, share_name, share_word in _CMRC_SHARES:
                part = rates.get(share_name, on)
                rate = derived(f"({rights_name} + {non_rights_name}) × {share_name}",
                               (rights.value + non_rights.value) * part.value, (rights, non_rights, part),
                               label=f"Taux CMRC {tranche} {share_word}")
                add(fund, share, base, rate, ceiling, ceiling_use)

    if building_trade:
        add("CCPB", Share.EMPLOYER, pay, rates.get("ccpb/employer", on))
    return tuple(out)


_DERIVED: dict[tuple[Any, ...], tuple[Sequence[RateUse], RateUse]] = {}


def derived(parameter: str, value: Decimal, parts: Sequence[RateUse], *, label: str) -> RateUse:
    """A value computed from dated values: in force from the latest of them, unconfirmed if any is.

    ``parameter`` is the formula of their names (the identifier); ``label`` says it in French. The same
    formula of the same dated values (the book hands out one RateUse per dated value) gives the same
    RateUse, made once per process rather than once per employee."""
    key = (parameter, value, label, *map(id, parts))
    known = _DERIVED.get(key)
    if known is not None:
        return known[1]
    made = _derive(parameter, value, parts, label)
    if len(_DERIVED) >= 4096:  # a few dozen in practice: one per formula and period of rates
        _DERIVED.clear()
    _DERIVED[key] = (tuple(parts), made)  # the parts kept alive, so that their ids stay theirs
    return made


def _derive(parameter: str, value: Decimal, parts: Sequence[RateUse], label: str) -> RateUse:
    sources = list(dict.fromkeys(p.source for p in parts))
    checked = [p.checked for p in parts if p.checked is not None]
    return RateUse(
        parameter=parameter,
        since=max(p.since for p in parts),
        value=value,
        source=" ; ".join(sources),
        unconfirmed=any(p.unconfirmed for p in parts),
        checked=min(checked) if checked else None,
        components=tuple((p.parameter, p.value) for p in parts),
        label=label,
    )


def compute_declaration(
    decl: Declaration,
    book: RateBook,
    *,
    building_trade: bool,
    household: bool,
    employments: Mapping[int, tuple[date, date] | None] | None = None,
    stale_after_days: int,
) -> ContributionResult:
    """Contributions of a declaration; ``employments`` maps 1-based line positions to employment spans.

    A missing position means the whole month. With no value in force, the result has no lines and one
    RATE_MISSING error naming the parameter and the date; otherwise its findings are the warnings
    (RATE_UNCONFIRMED, RATE_STALE) about the values used.
    """
    rates = RateLookup(book)
    spans = employments or {}
    lines: list[ContributionLine] = []
    notes: list[str] = []
    try:
        for position, line in enumerate(decl.lines, start=1):
            employment = Employment.of(decl.period, spans.get(position))
            lines.extend(employee_contributions(
                line.gross, employment, rates, household=household, building_trade=building_trade,
                unemployment_insurance=line.unemployment_insurance, position=position,
            ))
            if not employment.full and PRORATION_NOTE not in notes:
                notes.append(PRORATION_NOTE)
            if line.director:
                cover = "calculée" if line.unemployment_insurance else "non calculée (salarié non couvert)"
                notes.append(f"Ligne {position} ({line.identity}) : administrateur salarié ; cotisations "
                             f"calculées comme pour tout salarié, assurance chômage {cover}.")
            if any(e.type in _ABSENCES for e in line.events) and CMRC_ABSENCE_NOTE not in notes \
                    and any(c.fund == "CMRC_A" for c in lines):
                notes.append(CMRC_ABSENCE_NOTE)
    except RateError as exc:
        return ContributionResult((), (), (missing_rate_finding(exc, decl.location),))
    notes.extend(fund_notes(lines, household=household, declaration=True))
    findings = rates.findings(stale_after_days, decl.location)
    return ContributionResult(tuple(lines), fund_totals(lines), findings, tuple(notes))


class Amount(Protocol):
    """What a fund's total sums: a computed ``ContributionLine``, or a stored row's five columns."""

    @property
    def fund(self) -> str: ...
    @property
    def share(self) -> Share: ...
    @property
    def base(self) -> Decimal: ...
    @property
    def rate(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...


def fund_totals(lines: Iterable[Amount]) -> tuple[FundTotal, ...]:
    """One total per fund present, in FUNDS order: sums of rounded lines, unemployment to the euro."""
    by_fund: dict[str, list[Amount]] = defaultdict(list)
    for line in lines:
        by_fund[line.fund].append(line)
    totals = []
    for fund, label in FUNDS.items():
        group = by_fund.get(fund)
        if not group:
            continue
        # the base is the same for both shares of an employee: count it once, on the employer's line
        base = sum((c.base for c in group if c.share is Share.EMPLOYER), ZERO)
        share_rates = [{c.rate for c in group if c.share is s} for s in Share]
        rate = sum((next(iter(r)) for r in share_rates if r), Decimal(0)) \
            if all(len(r) <= 1 for r in share_rates) else None
        if fund == "UNEMPLOYMENT":
            base = round_euros(base)
            employer, employee = (_euro_total([c for c in group if c.share is s]) for s in Share)
        else:
            employer, employee = (sum((c.amount for c in group if c.share is s), ZERO) for s in Share)
        totals.append(FundTotal(fund, label, base, rate, employer, employee))
    return tuple(totals)


def _euro_total(lines: Sequence[Amount]) -> Decimal:
    """CSM rule: total base rounded to the euro, × rate, rounded to the euro (per rate, should one differ)."""
    bases: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        bases[line.rate] += line.base
    return sum((round_euros(round_euros(base) * rate) for rate, base in bases.items()), ZERO)


def fund_notes(lines: Sequence[ContributionLine], *, household: bool, declaration: bool) -> list[str]:
    """French notes on how some funds were computed (the euro rounding only concerns declarations)."""
    funds = {c.fund for c in lines}
    notes = []
    if declaration and "UNEMPLOYMENT" in funds:
        notes.append(UNEMPLOYMENT_ROUNDING_NOTE)
    if household:
        notes.append(HOUSEHOLD_NOTE)
    if "CCPB" in funds:
        notes.append(CCPB_NOTE)
    return notes
