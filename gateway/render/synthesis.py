"""The synthesis of a subscriber's clients for the current period (the portal's list): CSV and PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from gateway.render import flow
from gateway.render.csv_out import render_csv
from gateway.render.text import fr_datetime, fr_int, fr_period

TITLE = "Synthèse des clients"
CSV_HEADER = ("employeur", "nom", "actif", "periode", "declaration", "recue_le", "reference", "en_retard",
              "dernier_releve", "incident_paiement")


@dataclass(frozen=True)
class ClientStatus:
    employer: str
    name: str
    active: bool
    period: str
    declared_at: datetime | None
    reference: str | None
    late: bool  # declared late, or still missing after the due date
    latest_statement: str | None  # period of the latest statement
    payment_incident: bool = False  # a collection rejected or returned, not cleared: statements on paper

    @property
    def status_fr(self) -> str:
        if not self.active:
            return "inactif"
        return "déclarée" if self.reference else "à faire"


def render_synthesis_csv(rows: Sequence[ClientStatus]) -> bytes:
    return render_csv(CSV_HEADER, [(r.employer, r.name, r.active, r.period, r.status_fr, r.declared_at,
                                    r.reference, r.late, r.latest_statement, r.payment_incident) for r in rows])


def render_synthesis_pdf(subscriber: str, subscriber_name: str, period: str, rows: Sequence[ClientStatus],
                         made_at: datetime, reference: str) -> bytes:
    active = [r for r in rows if r.active]
    todo = [r for r in active if not r.reference]
    incidents = [r for r in rows if r.payment_incident]
    table: list[list[flow.Cell]] = [["N°", "Client", "Déclaration", "Reçue le / Réf.", "Retard", "Dernier relevé"]]
    for r in rows:
        when = flow.lines([fr_datetime(r.declared_at), r.reference], flow.CELL_REF) if r.reference and r.declared_at \
            else "—"
        status: flow.Cell = flow.lines([r.status_fr, "incident de paiement"], flow.CELL) if r.payment_incident \
            else r.status_fr
        table.append([r.employer, flow.para(r.name, flow.CELL), status, when, "oui" if r.late else "",
                      fr_period(r.latest_statement) if r.latest_statement else "—"])
    story: list[Flowable] = [
        flow.para(f"{TITLE} — {fr_period(period)}", flow.TITLE),
        flow.key_values([("Abonné", f"{subscriber_name} (n° {subscriber})"), ("Établie le", fr_datetime(made_at)),
                        ("Clients actifs", fr_int(len(active))), ("Inactifs", fr_int(len(rows) - len(active))),
                        ("Déclarations à faire", fr_int(len(todo))),
                        *([("Incidents de paiement", fr_int(len(incidents)))] if incidents else [])]),
        Spacer(0, 3 * mm),
        flow.table(table, [42, 150, 52, 130, 36, 72]) if rows else flow.para("Aucun client."),
    ]
    return flow.build(story, title=f"{TITLE} {fr_period(period)} — abonné {subscriber}", reference=reference,
                     subject=subscriber_name)
