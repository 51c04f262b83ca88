"""The pre-filled declaration of a period (XML and CSV), ready to complete: one employee per person in
the employer's known workforce, identified by registration number and name.

Gross pay and hours are unknown to the Caisses: they are written as ``0.00`` and each employee carries an
XML comment « à compléter » (the CSV leaves the two cells empty). A file sent back without completing them
declares zero pay, so the comment says so. No ``totals`` element: it would have to be recomputed. Events are
not pre-filled (the payroll software knows them); contract dates found in the registers are given in the
comment. The XML is valid against ``schemas/declaration-1.xsd``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from gateway.render.csv_out import render_csv
from gateway.render.text import clean, fr_date
from gateway.store.jobs import WorkforceRow

NS = "urn:csm-gateway:declaration:1"
CSV_HEADER = ("employer", "period", "registration", "last_name", "first_name", "birth_date", "director",
              "gross", "hours", "event", "event_start", "event_end")


def _note(row: WorkforceRow) -> str:
    parts = [" à compléter : gross (salaire brut) et hours (heures) — 0.00 déclarerait une paie nulle"]
    if row.start:
        parts.append(f"contrat depuis le {fr_date(row.start)}")
    if row.end:
        parts.append(f"fin de contrat le {fr_date(row.end)}")
    return "; ".join(parts) + " "


def render_prefill_xml(employer: str, period: str, workforce: Sequence[WorkforceRow], created: datetime) -> bytes:
    """Raises ValueError for an empty workforce: a declaration needs at least one employee."""
    if not workforce:
        raise ValueError("aucun salarié connu : pas de déclaration pré-remplie XML")
    root = etree.Element(f"{{{NS}}}declarations", nsmap={None: NS})
    root.set("software", "Passerelle CSM (pré-remplissage)")
    root.set("created", created.isoformat(timespec="seconds"))
    decl = etree.SubElement(root, f"{{{NS}}}declaration", employer=employer, period=period)
    decl.append(etree.Comment(f" Déclaration pré-remplie de {period} : effectif connu des Caisses Sociales. "
                              "Complétez le salaire brut et les heures de chaque salarié, ajoutez les événements, "
                              "retirez les personnes qui n'ont pas travaillé et ajoutez les nouveaux salariés. "))
    for row in workforce:
        decl.append(etree.Comment(_note(row).replace("--", "—")))
        emp = etree.SubElement(decl, f"{{{NS}}}employee", registration=row.registration)
        etree.SubElement(emp, f"{{{NS}}}last-name").text = clean(row.last_name)
        etree.SubElement(emp, f"{{{NS}}}first-name").text = clean(row.first_name)
        etree.SubElement(emp, f"{{{NS}}}gross").text = "0.00"
        etree.SubElement(emp, f"{{{NS}}}hours").text = "0.00"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_prefill_csv(employer: str, period: str, workforce: Sequence[WorkforceRow]) -> bytes:
    """The same as CSV (the declaration CSV format), gross and hours left empty to fill."""
    return render_csv(CSV_HEADER, [
        (employer, period, r.registration, r.last_name, r.first_name, r.birth_date, "", None, None, "", "", "")
        for r in workforce])
