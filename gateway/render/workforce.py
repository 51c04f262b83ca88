"""The workforce (effectif) of an employer for a period, from employments and work permits: CSV and PDF."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from gateway.render import flow
from gateway.render.csv_out import render_csv
from gateway.render.text import fr_date, fr_int, fr_period
from gateway.store.jobs import WorkforceRow

TITLE = "Effectif"
CSV_HEADER = ("employeur", "periode", "matricule", "nom", "prenom", "date_naissance", "debut_contrat",
              "fin_contrat", "autorisation_du", "autorisation_au")


def render_workforce_csv(employer: str, period: str, rows: Sequence[WorkforceRow]) -> bytes:
    return render_csv(CSV_HEADER, [(employer, period, r.registration, r.last_name, r.first_name, r.birth_date,
                                    r.start, r.end, r.permit_from, r.permit_to) for r in rows])


def render_workforce_pdf(employer: str, employer_name: str, period: str, rows: Sequence[WorkforceRow],
                         reference: str) -> bytes:
    table: list[list[flow.Cell]] = [["Matricule", "Nom", "Prénom", "Naissance", "Contrat du", "au",
                                    "Autorisation du", "au"]]
    for r in rows:
        table.append([r.registration, flow.para(r.last_name, flow.CELL), flow.para(r.first_name, flow.CELL),
                      fr_date(r.birth_date), fr_date(r.start), fr_date(r.end) if r.start else "—",
                      fr_date(r.permit_from), fr_date(r.permit_to) if r.permit_from else "—"])
    story: list[Flowable] = [
        flow.para(f"{TITLE} — {fr_period(period)}", flow.TITLE),
        flow.key_values([("Employeur", f"{employer_name} (n° {employer})"), ("Période", fr_period(period)),
                        ("Salariés", fr_int(len(rows)))]),
        Spacer(0, 3 * mm),
        flow.table(table, [48, 92, 80, 52, 52, 52, 56, 52]) if rows else flow.para("Aucun salarié connu."),
        Spacer(0, 3 * mm),
        flow.para("Salariés dont un contrat de travail ou une autorisation d'embauche couvre au moins un jour de "
                 "la période, d'après les registres des Caisses Sociales. « au — » : sans date de fin.", flow.SMALL),
    ]
    return flow.build(story, title=f"{TITLE} {fr_period(period)} — employeur {employer}", reference=reference,
                     subject=employer_name)
