"""The contribution statement (relevé de cotisations) of an employer on direct debit, for one period.

Every amount comes from the employer's account (:class:`gateway.rules.account.StatementFigures`): per fund
the base, each share's rate and amount; the period's total; the balance carried from earlier periods;
what was already collected; what is left and when it is debited, or the credit carried forward. A new
version « annule et remplace » the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from gateway.domain import Share
from gateway.money import ZERO, format_rate
from gateway.render import flow
from gateway.render.text import fr_amount, fr_date, fr_datetime, fr_period
from gateway.rules.account import StatementFigures

TITLE = "Relevé de cotisations"
CONTACT = ("Service Recouvrement des Caisses Sociales de Monaco, 11 rue Louis Notari, MC 98030 Monaco Cedex — "
           "+377 93 15 49 62 — recouvrement@caisses-sociales.mc")


def masked_iban(iban: str | None) -> str:
    """Only the country and the last four characters of an IBAN are printed."""
    if not iban:
        return "—"
    return f"{iban[:4]} **** **** {iban[-4:]}"


@dataclass(frozen=True)
class StatementHeader:
    """Who and what the statement is for, beside its figures."""

    employer_name: str
    employer_address: str
    mandate_reference: str
    iban: str | None
    creditor_name: str
    creditor_id: str
    reference: str
    version: int = 1
    replaces: datetime | None = None  # when the version it cancels was issued


def _rate(rate: Decimal | None, present: bool = True) -> str:
    if not present:
        return "—"  # the fund has no such share
    return "variable" if rate is None else format_rate(rate)


def render_statement_pdf(figures: StatementFigures, header: StatementHeader, *, debit_on: date | None,
                         made_at: datetime) -> bytes:
    rows: list[list[flow.Cell]] = [["Caisse", "Base", "Taux pat.", "Part patronale", "Taux sal.",
                                    "Part salariale", "Total"]]
    for f in figures.funds:
        rows.append([flow.para(f.label, flow.CELL), fr_amount(f.base),
                     _rate(f.employer_rate, Share.EMPLOYER in f.shares), fr_amount(f.employer),
                     _rate(f.employee_rate, Share.EMPLOYEE in f.shares), fr_amount(f.employee), fr_amount(f.total)])
    employer_total = sum((f.employer for f in figures.funds), ZERO)
    employee_total = sum((f.employee for f in figures.funds), ZERO)
    rows.append(["Total de la période", "", "", fr_amount(employer_total), "", fr_amount(employee_total),
                 fr_amount(figures.period_total)])
    version = (f"Version {header.version} — annule et remplace le relevé du {fr_date(header.replaces.date())}"
               if header.replaces is not None else None)
    summary: list[tuple[str, object]] = [("Cotisations de la période", fr_amount(figures.period_total))]
    if figures.carried:
        summary.append(("Solde des périodes précédentes" if figures.carried > 0 else
                        "Crédit des périodes précédentes", fr_amount(figures.carried)))
    if figures.collected > 0:
        summary.append(("Prélèvements déjà émis", fr_amount(-figures.collected)))
    elif figures.collected < 0:  # a credit of this period used up by a collection of the balance
        summary.append(("Crédit déjà imputé sur un prélèvement", fr_amount(-figures.collected)))
    story: list[Flowable] = [
        flow.para(f"{TITLE} — {fr_period(figures.period)}", flow.TITLE),
        flow.para("Prélèvement automatique SEPA", flow.SMALL),
    ]
    if version:
        story.append(flow.para(version, flow.BODY))
    story += [
        Spacer(0, 3 * mm),
        flow.key_values([
            ("Employeur", flow.lines([header.employer_name, header.employer_address,
                                      f"N° employeur : {figures.employer}"], flow.CELL, bold_first=True)),
            ("Période", fr_period(figures.period)),
            ("Référence", header.reference if header.version == 1 else f"{header.reference} (version {header.version})"),
            ("Déclaration(s)", ", ".join(figures.declarations) or "—"),
            ("Établi le", fr_datetime(made_at)),
        ]),
        *flow.heading("Cotisations par caisse"),
        flow.table(rows, [118, 60, 44, 64, 44, 64, 68], right=(1, 2, 3, 4, 5, 6), total_rows=1),
        flow.para("Montants arrondis au centime par salarié puis additionnés ; assurance chômage : base et "
                  "cotisation arrondies à l'euro. Une déclaration rectificative remplace les montants de la "
                  "période ; une complémentaire s'y ajoute.", flow.SMALL),
        *flow.heading("Votre compte"),
        flow.key_values(summary, widths=(70 * mm, 0)),
        Spacer(0, 2 * mm),
    ]
    if figures.to_debit > 0:
        story += [flow.labelled("Montant qui sera prélevé :", fr_amount(figures.to_debit), flow.BIG),
                  flow.para(f"le {fr_date(debit_on)}" if debit_on else "", flow.BODY)]
    elif figures.credit > 0:
        story += [flow.labelled("Crédit en votre faveur :", fr_amount(figures.credit), flow.BIG),
                  flow.para("Aucun prélèvement : ce crédit est reporté sur votre prochain relevé de cotisations.",
                            flow.BODY)]
    else:
        story.append(flow.labelled("Reste dû :", fr_amount(ZERO) + " — aucun prélèvement supplémentaire", flow.BIG))
    story += [
        Spacer(0, 3 * mm),
        flow.key_values([
            ("Référence du mandat", header.mandate_reference),
            ("Compte débité", masked_iban(header.iban)),
            ("Créancier", f"{header.creditor_name} — identifiant créancier SEPA {header.creditor_id or '—'}"),
        ], widths=(45 * mm, 0)),
        Spacer(0, 4 * mm),
        flow.para(("Le montant ci-dessus sera prélevé sur votre compte à la date indiquée, conformément au "
                   "mandat de prélèvement SEPA signé. " if figures.to_debit > 0 else "")
                  + "Toute correction de la période donnera lieu à une nouvelle version de ce relevé.", flow.SMALL),
        flow.para(f"Contact : {CONTACT}", flow.SMALL),
    ]
    title = f"{TITLE} {fr_period(figures.period)} — employeur {figures.employer}"
    return flow.build(story, title=title, reference=header.reference, subject=header.employer_name)
