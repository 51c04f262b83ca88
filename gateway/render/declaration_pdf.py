"""A declaration as PDF: the portal's annex « PDF d'une déclaration en ligne », filed in the client's folder.

Employer, period, every employee line with its events, the totals, the contributions per fund and the
gateway's reference. Multi-page for large workforces (the table header repeats on each page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from gateway.domain import EVENT_LABELS_FR, Declaration, EmployeeLine, Event, FundTotal
from gateway.money import format_rate
from gateway.render import pdf
from gateway.render.text import fr_amount, fr_date, fr_datetime, fr_hours, fr_int, fr_period

TITLE = "Déclaration de salaires"
KIND_FR = {
    "original": "originale",
    "complementary": "complémentaire",
    "rectifying": "rectificative",
}


def event_text(event: Event) -> str:
    """``Maladie du 10/11/2026 au 14/11/2026`` / ``Début de contrat le 17/11/2026`` (+ hours when given)."""
    label = EVENT_LABELS_FR.get(event.type, str(event.type))
    if event.start and event.end:
        text = f"{label} du {fr_date(event.start)} au {fr_date(event.end)}"
    elif event.start or event.end:
        text = f"{label} le {fr_date(event.start or event.end)}"
    else:
        text = label
    if event.hours is not None:
        text += f", {fr_hours(event.hours)}"
    return text


def _names(position: int, line: EmployeeLine, names: Mapping[int, tuple[str, str]]) -> tuple[str, str]:
    """Names on record first (known employees may be declared by registration only), then the file's."""
    if position in names:
        return names[position]
    return line.last_name or "", line.first_name or ""


def _registration(position: int, line: EmployeeLine, registrations: Mapping[int, str]) -> str:
    if line.registration:
        return line.registration
    given = registrations.get(position)
    return f"{given} (provisoire)" if given else "à attribuer"


def _lines_table(
    decl: Declaration, names: Mapping[int, tuple[str, str]], registrations: Mapping[int, str]
) -> Flowable:
    rows: list[list[pdf.Cell]] = [["N°", "Matricule", "Nom", "Prénom", "Dir.", "Salaire brut", "Heures"]]
    spans: list[tuple[int, int, int]] = []
    keep: list[tuple[int, int]] = []
    for position, line in enumerate(decl.lines, start=1):
        last, first = _names(position, line, names)
        rows.append(
            [
                str(position),
                pdf.para(_registration(position, line, registrations), pdf.CELL),
                pdf.para(last, pdf.CELL),
                pdf.para(first, pdf.CELL),
                "oui" if line.director else "",
                fr_amount(line.gross),
                fr_hours(line.hours),
            ]
        )
        if line.events:
            keep.append((len(rows) - 1, len(rows) + len(line.events) - 1))
        for event in line.events:
            spans.append((len(rows), 1, 6))
            rows.append(["", pdf.para(f"↳ {event_text(event)}", pdf.CELL_SMALL), "", "", "", "", ""])
    rows.append(
        ["", f"Total : {fr_int(len(decl.lines))} salarié(s)", "", "", "", fr_amount(decl.total_gross),
         fr_hours(decl.total_hours)]
    )  # fmt: skip
    spans.append((len(rows) - 1, 1, 4))
    return pdf.table(rows, [22, 78, 130, 110, 28, 80, 67], right=(0, 5, 6), total_rows=1, spans=spans,
                     keep_rows=keep)


def _funds_table(funds: Sequence[FundTotal]) -> Flowable:
    rows: list[list[pdf.Cell]] = [["Caisse", "Base", "Taux", "Part patronale", "Part salariale"]]
    for f in funds:
        rows.append(
            [
                pdf.para(f.label or f.fund, pdf.CELL),
                fr_amount(f.base),
                "—" if f.rate is None else format_rate(f.rate),
                fr_amount(f.employer),
                fr_amount(f.employee),
            ]
        )
    # Column totals: sums of the per-fund amounts above, already rounded upstream.
    employer = sum((f.employer for f in funds), Decimal("0.00"))
    employee = sum((f.employee for f in funds), Decimal("0.00"))
    rows.append(["Total", "", "", fr_amount(employer), fr_amount(employee)])
    return pdf.table(rows, [200, 85, 55, 88, 88], right=(1, 2, 3, 4), total_rows=1)


def render_declaration_pdf(
    decl: Declaration,
    *,
    reference: str,
    employer_name: str,
    employer_address: str,
    received_at: datetime,
    names: Mapping[int, tuple[str, str]],
    registrations: Mapping[int, str],
    funds: Sequence[FundTotal],
    late: bool,
    test: bool,
    kind: str = "original",
) -> bytes:
    """The declaration as the portal's annex PDF.

    ``names`` and ``registrations`` are keyed by the 1-based position of the line in ``decl.lines``:
    ``names`` gives (last name, first name) on record, ``registrations`` the number given to a new employee
    (provisional). ``funds`` may be empty before contributions are computed. ``kind`` is ``original``,
    ``complementary`` or ``rectifying``.
    """
    kind_fr = KIND_FR.get(kind, kind)
    story: list[Flowable] = [
        pdf.para(f"{TITLE} — {kind_fr}", pdf.TITLE),
        pdf.para("Annexe : PDF d'une déclaration en ligne", pdf.SMALL),
        Spacer(0, 2 * mm),
        pdf.labelled("Référence :", reference, pdf.BIG),
        Spacer(0, 2 * mm),
        pdf.key_values(
            [
                ("Employeur", pdf.lines([employer_name, employer_address, f"N° employeur : {decl.employer}"],
                                        pdf.CELL, bold_first=True)),
                ("Période", fr_period(decl.period)),
                ("Reçue le", f"{fr_datetime(received_at)} (heure de Monaco)"),
                ("Délai", "reçue après le 10 du mois suivant : en retard" if late else "dans les délais"),
                ("Salariés", fr_int(len(decl.lines))),
                ("Salaire brut total", fr_amount(decl.total_gross)),
                ("Heures totales", fr_hours(decl.total_hours)),
            ]
        ),
        *pdf.heading("Salariés et événements"),
        _lines_table(decl, names, registrations),
    ]
    if funds:
        story += [*pdf.heading("Cotisations par caisse"), _funds_table(funds)]
    if test:
        story.append(pdf.para("Document de test : cette déclaration n'a pas été enregistrée.", pdf.STRONG))
    title = f"{TITLE} {fr_period(decl.period)} — employeur {decl.employer}"
    return pdf.build(story, title=title, reference=reference, test=test, subject=employer_name)
