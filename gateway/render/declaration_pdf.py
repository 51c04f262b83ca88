"""A declaration as PDF: the portal's annex « PDF d'une déclaration en ligne », filed in the client's folder.

Employer, period, every employee line with its events, the totals, the contributions per fund and the
gateway's reference. Multi-page for large workforces (the table header repeats on each page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from reportlab.lib.units import mm

from gateway.domain import EVENT_LABELS_FR, Declaration, EmployeeLine, Event, FundTotal
from gateway.money import format_rate
from gateway.render import sheets
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


def _lines_rows(decl: Declaration, names: Mapping[int, tuple[str, str]], registrations: Mapping[int, str]
                ) -> list[sheets.Row]:
    rows: list[sheets.Row] = []
    for position, line in enumerate(decl.lines, start=1):
        last, first = _names(position, line, names)
        group = position if line.events else 0  # an employee and its events stay on one page
        rows.append(
            sheets.Row(
                [
                    str(position),
                    _registration(position, line, registrations),
                    last,
                    first,
                    "oui" if line.director else "",
                    fr_amount(line.gross),
                    fr_hours(line.hours),
                ],
                group=group,
            )
        )
        for event in line.events:
            rows.append(sheets.Row(["", sheets.Para(f"↳ {event_text(event)}", sheets.S_CELL_SMALL)], span=(1, 5),
                                group=group))
    rows.append(
        sheets.Row(["", f"Total : {fr_int(len(decl.lines))} salarié(s)", fr_amount(decl.total_gross),
                 fr_hours(decl.total_hours)], sheets.S_CELL_BOLD, rule_above=0.8, span=(1, 3))
    )  # fmt: skip
    return rows


def _funds_rows(funds: Sequence[FundTotal]) -> list[sheets.Row]:
    rows = [
        sheets.Row([f.label or f.fund, fr_amount(f.base), "—" if f.rate is None else format_rate(f.rate),
                 fr_amount(f.employer), fr_amount(f.employee)])
        for f in funds
    ]  # fmt: skip
    # Column totals: sums of the per-fund amounts above, already rounded upstream.
    employer = sum((f.employer for f in funds), Decimal("0.00"))
    employee = sum((f.employee for f in funds), Decimal("0.00"))
    rows.append(sheets.Row(["Total", "", "", fr_amount(employer), fr_amount(employee)], sheets.S_CELL_BOLD, rule_above=0.8))
    return rows


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
    sheet = sheets.Sheet()
    sheet.para(f"{TITLE} — {kind_fr}", sheets.S_TITLE, space_after=3)
    sheet.para("Annexe : PDF d'une déclaration en ligne", sheets.S_SMALL, space_after=2 * mm)
    sheet.labelled("Référence :", reference, sheets.S_BIG, space_after=2 * mm)
    sheet.key_values(
        [
            ("Employeur", (sheets.Para(employer_name, sheets.S_CELL_BOLD), sheets.Para(employer_address),
                           sheets.Para(f"N° employeur : {decl.employer}"))),
            ("Période", fr_period(decl.period)),
            ("Reçue le", f"{fr_datetime(received_at)} (heure de Monaco)"),
            ("Délai", "reçue après le 10 du mois suivant : en retard" if late else "dans les délais"),
            ("Salariés", fr_int(len(decl.lines))),
            ("Salaire brut total", fr_amount(decl.total_gross)),
            ("Heures totales", fr_hours(decl.total_hours)),
        ]
    )
    sheet.heading("Salariés et événements")
    sheet.table([22, 78, 130, 110, 28, 80, 67], ["N°", "Matricule", "Nom", "Prénom", "Dir.", "Salaire brut", "Heures"],
                _lines_rows(decl, names, registrations), right=(0, 5, 6))
    if funds:
        sheet.heading("Cotisations par caisse")
        sheet.table([200, 85, 55, 88, 88], ["Caisse", "Base", "Taux", "Part patronale", "Part salariale"],
                    _funds_rows(funds), right=(1, 2, 3, 4))
    if test:
        sheet.para("Document de test : cette déclaration n'a pas été enregistrée.", sheets.S_STRONG, space_before=4)
    title = f"{TITLE} {fr_period(decl.period)} — employeur {decl.employer}"
    return sheet.render(title=title, reference=reference, test=test, subject=employer_name)
