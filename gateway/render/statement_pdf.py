"""The contribution statement (relevé de cotisations) of an employer on direct debit, for one period.

Per fund: base, rate, employer and employee shares and their total; the amount to be debited, the debit
date and the SEPA mandate reference. Figures come from the stored contribution lines, summed per fund by
the same rule as the declaration (:func:`gateway.rules.contributions.fund_totals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from gateway.domain import FundTotal
from gateway.money import format_rate
from gateway.render import flow
from gateway.render.text import fr_amount, fr_date, fr_datetime, fr_period

TITLE = "Relevé de cotisations"


def masked_iban(iban: str | None) -> str:
    """Only the country and the last four characters of an IBAN are printed."""
    if not iban:
        return "—"
    return f"{iban[:4]} **** **** {iban[-4:]}"


def render_statement_pdf(
    *, employer: str, employer_name: str, employer_address: str, period: str, funds: Sequence[FundTotal],
    declarations: Sequence[str], debit_on: date, mandate_reference: str, iban: str | None,
    creditor_name: str, creditor_id: str, made_at: datetime, reference: str,
) -> bytes:
    rows: list[list[flow.Cell]] = [["Caisse", "Base", "Taux", "Part patronale", "Part salariale", "Total"]]
    for f in funds:
        rows.append([flow.para(f.label or f.fund, flow.CELL), fr_amount(f.base),
                     "—" if f.rate is None else format_rate(f.rate), fr_amount(f.employer),
                     fr_amount(f.employee), fr_amount(f.employer + f.employee)])
    employer_total = sum((f.employer for f in funds), Decimal("0.00"))
    employee_total = sum((f.employee for f in funds), Decimal("0.00"))
    total = employer_total + employee_total
    rows.append(["Total", "", "", fr_amount(employer_total), fr_amount(employee_total), fr_amount(total)])
    story: list[Flowable] = [
        flow.para(f"{TITLE} — {fr_period(period)}", flow.TITLE),
        flow.para("Prélèvement automatique SEPA", flow.SMALL),
        Spacer(0, 3 * mm),
        flow.key_values([
            ("Employeur", flow.lines([employer_name, employer_address, f"N° employeur : {employer}"],
                                    flow.CELL, bold_first=True)),
            ("Période", fr_period(period)),
            ("Déclaration(s)", ", ".join(declarations) or "—"),
            ("Établi le", fr_datetime(made_at)),
        ]),
        *flow.heading("Cotisations par caisse"),
        flow.table(rows, [150, 72, 48, 76, 76, 80], right=(1, 2, 3, 4, 5), total_rows=1),
        Spacer(0, 5 * mm),
        flow.labelled("Montant prélevé :", fr_amount(total), flow.BIG),
        Spacer(0, 2 * mm),
        flow.key_values([
            ("Date de prélèvement", fr_date(debit_on)),
            ("Référence du mandat", mandate_reference),
            ("Compte débité", masked_iban(iban)),
            ("Créancier", f"{creditor_name} — identifiant créancier SEPA {creditor_id}"),
        ], widths=(45 * mm, 0)),
        Spacer(0, 4 * mm),
        flow.para("Le montant ci-dessus sera prélevé sur votre compte à la date indiquée, conformément au mandat "
                 "de prélèvement SEPA signé. Pour toute question : Service Recouvrement, +377 93 15 49 62, "
                 "recouvrement@caisses-sociales.mc.", flow.SMALL),
    ]
    title = f"{TITLE} {fr_period(period)} — employeur {employer}"
    return flow.build(story, title=title, reference=reference, subject=employer_name)
