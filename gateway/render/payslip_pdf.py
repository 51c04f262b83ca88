"""A payslip (bulletin de salaire) as a one-page French PDF with the mentions of AM n° 58-150 art. 1.

Employer and employee, period and hours (normal and overtime apart), base pay and hourly rate, each
earning saying whether it is subject to contributions, gross, every contribution as base × rate = amount
in the employee and employer columns, net paid, payment date, pay and hours declared to the CCSS and CAR,
total cost. The figures come computed in :class:`gateway.domain.Payslip`; this module only lays them out.
"""

from __future__ import annotations

from decimal import Decimal

from reportlab.lib.units import mm

from gateway.domain import ContributionLine, PayLine, Payslip, Share
from gateway.money import format_eur, format_rate
from gateway.render import fonts, sheets
from gateway.render.text import fr_amount, fr_date, fr_decimal, fr_hours, fr_period
from gateway.rules.contributions import FUNDS  # the French fund labels, one list for every document

TITLE = "Bulletin de salaire"

_HEADER = ["Désignation", "Base", "Taux salarial", "Part salariale", "Taux patronal", "Part patronale"]
_WIDTHS = [190, 70, 52, 70, 52, 81.9]


def _money(value: Decimal | None) -> str:
    return "" if value is None else format_eur(value)


def _earning_rate(line: PayLine) -> str:
    """Earnings carry an hourly rate or an overtime multiplier (≥ 1), sometimes a fraction (< 1); shown
    with all their digits (an overtime hourly rate of 24,375 is not 24,38)."""
    if line.rate is None:
        return ""
    return format_rate(line.rate) if line.rate < 1 else fr_decimal(line.rate)


def _earning_row(line: PayLine, *, say_subject: bool = True) -> sheets.Row:
    label = line.label if line.subject or not say_subject else f"{line.label} (non soumis à cotisations)"
    return sheets.Row([label, fr_decimal(line.base), _earning_rate(line), _money(line.employee), "",
                    _money(line.employer)])  # fmt: skip


def _section(title: str) -> sheets.Row:
    return sheets.Row([title], shaded=True, span=(0, 5))


def _contribution_rows(lines: tuple[ContributionLine, ...]) -> list[sheets.Row]:
    """One row per fund and base: the employee and employer lines of a fund share their base."""
    grouped: dict[tuple[str, Decimal], dict[Share, ContributionLine]] = {}
    for line in lines:
        grouped.setdefault((line.fund, line.base), {})[line.share] = line
    rows: list[sheets.Row] = []
    for (fund, base), shares in grouped.items():
        employee, employer = shares.get(Share.EMPLOYEE), shares.get(Share.EMPLOYER)
        any_line = employee or employer
        details = []
        if any_line is not None and any_line.ceiling is not None:
            details.append(f"plafond {fr_amount(any_line.ceiling)}")
        if any(s.rate_use.unconfirmed for s in shares.values()):
            details.append("taux non confirmé")
        label = sheets.Para(FUNDS.get(fund, fund))
        rows.append(
            sheets.Row(
                [
                    (label, sheets.Para(" · ".join(details), sheets.S_CELL_SMALL)) if details else label,
                    format_eur(base),
                    format_rate(employee.rate) if employee else "",
                    format_eur(employee.amount) if employee else "",
                    format_rate(employer.rate) if employer else "",
                    format_eur(employer.amount) if employer else "",
                ]
            )
        )
    return rows


def _parties(sheet: sheets.Sheet, p: Payslip) -> None:
    """Employer and employee side by side, each in its box."""
    r = p.request
    employer = (sheets.Para(p.employer_name, sheets.S_CELL_BOLD), sheets.Para(p.employer_address),
                sheets.Para(f"N° employeur : {r.employer}"))
    employee = [sheets.Para(p.employee_name, sheets.S_CELL_BOLD), sheets.Para(f"Matricule : {r.registration}"),
                sheets.Para(f"Emploi : {p.job}" if p.job else "Emploi : non communiqué")]
    if p.qualification:
        employee.append(sheets.Para(f"Qualification : {p.qualification}"))
    half = fonts.CONTENT_WIDTH / 2
    top = sheet.y
    sheet.row([half, half], sheets.Row([sheets.Para("Employeur", sheets.S_CELL_BOLD), sheets.Para("Salarié", sheets.S_CELL_BOLD)],
                                    shaded=True), pad_x=6, pad_y=3, rule=0)
    sheet.row([half, half], sheets.Row([employer, employee]), pad_x=6, pad_y=3, rule=0)
    for x in (fonts.MARGIN, fonts.MARGIN + half):
        sheet.box(x, sheet.y, half, top - sheet.y, 0.5, fonts.RULE)


def _hours_text(p: Payslip) -> tuple[str, Decimal]:
    """The hours line (normal and each overtime rate apart) and the hours declared (all hours paid)."""
    r = p.request
    parts = [f"heures normales {fr_hours(r.hours)}"]
    parts += [f"heures supplémentaires à +{o.rate} % {fr_hours(o.hours)}" for o in r.overtime]
    if not r.overtime:
        parts.append("pas d'heures supplémentaires")
    declared = r.hours + sum((o.hours for o in r.overtime), Decimal(0))
    return " · ".join(parts), declared


def render_payslip_pdf(p: Payslip, *, reference: str, test: bool) -> bytes:
    """The payslip as a one-page A4 PDF; the same value always gives the same bytes."""
    r = p.request
    period = r.period
    hours_text, declared_hours = _hours_text(p)
    rows = [_section("Salaire brut : éléments soumis à cotisations, sauf mention")]
    rows += [_earning_row(line) for line in p.earnings]
    rows.append(sheets.Row(["Salaire brut", "", "", format_eur(p.gross), "", ""], sheets.S_CELL_BOLD, rule_above=0.8))
    rows.append(_section("Cotisations et contributions sociales"))
    rows += _contribution_rows(p.contributions)
    rows.append(sheets.Row(["Total des cotisations", "", "", format_eur(p.employee_contributions), "",
                         format_eur(p.employer_contributions)], sheets.S_CELL_BOLD, rule_above=0.8))  # fmt: skip
    if p.non_subject:
        rows.append(_section("Éléments non soumis à cotisations (ajoutés au net ou repris)"))
        rows += [_earning_row(line, say_subject=False) for line in p.non_subject]
    rows.append(sheets.Row(["Net à payer", "", "", format_eur(p.net), "", ""], _NET, rule_above=1.2))

    sheet = sheets.Sheet(one_page=True)
    sheet.para(f"{TITLE} — {fr_period(period)}", sheets.S_TITLE, space_after=3)
    sheet.para(f"Période du {fr_date(period.first_day)} au {fr_date(period.last_day)}", space_after=2 + 2 * mm)
    _parties(sheet, p)
    sheet.space(2 * mm)
    sheet.labelled("Temps de travail :", hours_text, space_after=2)
    sheet.labelled("Salaire de base :", f"taux horaire {fr_amount(r.hourly_rate)}", space_after=2 + 2 * mm)
    sheet.table(_WIDTHS, _HEADER, rows, right=(1, 2, 3, 4, 5))
    sheet.space(3 * mm)
    sheet.labelled("Net payé :", fr_amount(p.net), sheets.S_BIG, space_after=2)
    sheet.labelled("Date de paiement :", fr_date(p.payment_date) if p.payment_date else "non communiquée",
                   space_after=2)
    sheet.labelled(
        "Salaire et heures déclarés à la CCSS, à la CAR et à l'assureur accidents du travail :",
        f"{fr_amount(p.gross)} pour {fr_hours(declared_hours)}",
        space_after=2,
    )
    sheet.labelled("Coût total pour l'employeur :", fr_amount(p.total_cost), space_after=2)
    if p.notes:
        sheet.space(2 * mm)
        for note in p.notes:
            sheet.para(f"• {note}", sheets.S_SMALL)
    sheet.space(2 * mm)
    sheet.para("Taux et plafonds en vigueur le dernier jour de la période d'emploi. Montants en euros.", sheets.S_SMALL)
    title = f"{TITLE} {fr_period(period)} — matricule {r.registration}"
    return sheet.render(title=title, reference=reference, test=test, subject=p.employer_name)


_NET = sheets.TextStyle(fonts.FONT_BOLD, 10)
