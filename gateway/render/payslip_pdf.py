"""A payslip (bulletin de salaire) as a one-page French PDF with the mentions of AM n° 58-150 art. 1.

Employer and employee, period and hours (normal and overtime apart), base pay and hourly rate, each
earning saying whether it is subject to contributions, gross, every contribution as base × rate = amount
in the employee and employer columns, net paid, payment date, pay and hours declared to the CCSS and CAR,
total cost. The figures come computed in :class:`gateway.domain.Payslip`; this module only lays them out.
"""

from __future__ import annotations

from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from gateway.domain import ContributionLine, PayLine, Payslip, Share
from gateway.money import format_eur, format_rate
from gateway.render import pdf
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


def _earning_row(line: PayLine, *, say_subject: bool = True) -> list[pdf.Cell]:
    label = line.label if line.subject or not say_subject else f"{line.label} (non soumis à cotisations)"
    return [pdf.para(label, pdf.CELL), fr_decimal(line.base), _earning_rate(line), _money(line.employee), "",
            _money(line.employer)]  # fmt: skip


def _contribution_rows(lines: tuple[ContributionLine, ...]) -> list[list[pdf.Cell]]:
    """One row per fund and base: the employee and employer lines of a fund share their base."""
    grouped: dict[tuple[str, Decimal], dict[Share, ContributionLine]] = {}
    for line in lines:
        grouped.setdefault((line.fund, line.base), {})[line.share] = line
    rows: list[list[pdf.Cell]] = []
    for (fund, base), shares in grouped.items():
        employee, employer = shares.get(Share.EMPLOYEE), shares.get(Share.EMPLOYER)
        any_line = employee or employer
        label_parts = [FUNDS.get(fund, fund)]
        if any_line is not None and any_line.ceiling is not None:
            label_parts.append(f"plafond {fr_amount(any_line.ceiling)}")
        if any(s.rate_use.unconfirmed for s in shares.values()):
            label_parts.append("taux non confirmé")
        rows.append(
            [
                pdf.with_detail(label_parts[0], " · ".join(label_parts[1:]), pdf.CELL),
                format_eur(base),
                format_rate(employee.rate) if employee else "",
                format_eur(employee.amount) if employee else "",
                format_rate(employer.rate) if employer else "",
                format_eur(employer.amount) if employer else "",
            ]
        )
    return rows


def _parties(p: Payslip) -> Flowable:
    r = p.request
    employer = pdf.lines([p.employer_name, p.employer_address, f"N° employeur : {r.employer}"], pdf.CELL,
                         bold_first=True)
    employee_lines = [p.employee_name, f"Matricule : {r.registration}"]
    employee_lines.append(f"Emploi : {p.job}" if p.job else "Emploi : non communiqué")
    if p.qualification:
        employee_lines.append(f"Qualification : {p.qualification}")
    employee = pdf.lines(employee_lines, pdf.CELL, bold_first=True)
    half = pdf.CONTENT_WIDTH / 2
    return Table(
        [[pdf.para("Employeur", pdf.CELL_BOLD), pdf.para("Salarié", pdf.CELL_BOLD)], [employer, employee]],
        colWidths=[half, half],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), pdf.FONT, 8),
                ("BOX", (0, 0), (0, -1), 0.5, pdf.RULE),
                ("BOX", (1, 0), (1, -1), 0.5, pdf.RULE),
                ("BACKGROUND", (0, 0), (-1, 0), pdf.LIGHT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        ),
        hAlign="LEFT",
    )


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
    rows: list[list[pdf.Cell]] = [_HEADER, ["Salaire brut : éléments soumis à cotisations, sauf mention", "", "", "", "", ""]]
    shaded = [1]
    spans = [(1, 0, 5)]
    rows += [_earning_row(line) for line in p.earnings]
    rows.append(["Salaire brut", "", "", format_eur(p.gross), "", ""])
    gross_row = len(rows) - 1
    rows.append(["Cotisations et contributions sociales", "", "", "", "", ""])
    shaded.append(len(rows) - 1)
    spans.append((len(rows) - 1, 0, 5))
    rows += _contribution_rows(p.contributions)
    rows.append(["Total des cotisations", "", "", format_eur(p.employee_contributions), "",
                 format_eur(p.employer_contributions)])  # fmt: skip
    total_row = len(rows) - 1
    if p.non_subject:
        rows.append(["Éléments non soumis à cotisations (ajoutés au net ou repris)", "", "", "", "", ""])
        shaded.append(len(rows) - 1)
        spans.append((len(rows) - 1, 0, 5))
        rows += [_earning_row(line, say_subject=False) for line in p.non_subject]
    rows.append(["Net à payer", "", "", format_eur(p.net), "", ""])
    body = pdf.table(rows, _WIDTHS, right=(1, 2, 3, 4, 5), total_rows=1, spans=spans, shaded_rows=shaded)
    body.setStyle(
        TableStyle(
            [
                ("FONT", (0, gross_row), (-1, gross_row), pdf.FONT_BOLD, 8),
                ("LINEABOVE", (0, gross_row), (-1, gross_row), 0.8, pdf.BLACK),
                ("FONT", (0, total_row), (-1, total_row), pdf.FONT_BOLD, 8),
                ("LINEABOVE", (0, total_row), (-1, total_row), 0.8, pdf.BLACK),
                ("FONT", (0, -1), (-1, -1), pdf.FONT_BOLD, 10),
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, pdf.BLACK),
            ]
        )
    )
    story: list[Flowable] = [
        pdf.para(f"{TITLE} — {fr_period(period)}", pdf.TITLE),
        pdf.para(f"Période du {fr_date(period.first_day)} au {fr_date(period.last_day)}", pdf.BODY),
        Spacer(0, 2 * mm),
        _parties(p),
        Spacer(0, 2 * mm),
        pdf.labelled("Temps de travail :", hours_text, pdf.BODY),
        pdf.labelled("Salaire de base :", f"taux horaire {fr_amount(r.hourly_rate)}", pdf.BODY),
        Spacer(0, 2 * mm),
        body,
        Spacer(0, 3 * mm),
        pdf.labelled("Net payé :", fr_amount(p.net), pdf.BIG),
        pdf.labelled("Date de paiement :", fr_date(p.payment_date) if p.payment_date else "non communiquée"),
        pdf.labelled(
            "Salaire et heures déclarés à la CCSS, à la CAR et à l'assureur accidents du travail :",
            f"{fr_amount(p.gross)} pour {fr_hours(declared_hours)}",
        ),
        pdf.labelled("Coût total pour l'employeur :", fr_amount(p.total_cost)),
    ]
    if p.notes:
        story.append(Spacer(0, 2 * mm))
        story += [pdf.para(f"• {note}", pdf.SMALL) for note in p.notes]
    story.append(Spacer(0, 2 * mm))
    story.append(
        pdf.para(
            "Taux et plafonds en vigueur le dernier jour de la période d'emploi. Montants en euros.",
            pdf.SMALL,
        )
    )
    title = f"{TITLE} {fr_period(period)} — matricule {r.registration}"
    return pdf.build(story, title=title, reference=reference, test=test, subject=p.employer_name, one_page=True)
