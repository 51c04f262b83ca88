"""The acknowledgement as a French PDF (« Accusé de réception ») that an accountant reads at a glance.

Top: the reference to quote and the overall status in words. Then the file's identity, the declarations
(or payslips) with their figures and contributions, and every finding with its place in the file.
Status is said in words, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.lib.units import mm

from gateway.domain import (
    AckDeclaration,
    Acknowledgement,
    AckPayslip,
    AppliedValue,
    FileKind,
    Finding,
    ItemStatus,
    Location,
    Outcome,
    Severity,
)
from gateway.money import format_rate
from gateway.render import sheets
from gateway.render.text import fr_amount, fr_date, fr_datetime, fr_hours, fr_int, fr_period

TITLE = "Accusé de réception"

KIND_FR = {
    FileKind.DECLARATION: "Déclaration de salaires",
    FileKind.PAYSLIP: "Demande de bulletins de salaire",
}
SEVERITY_FR = {Severity.ERROR: "Erreur", Severity.WARNING: "Avertissement"}
DECLARATION_STATUS_FR = {ItemStatus.ACCEPTED: "Acceptée", ItemStatus.REFUSED: "Refusée"}
PAYSLIP_STATUS_FR = {ItemStatus.ACCEPTED: "Produit", ItemStatus.REFUSED: "Refusé"}


def status_words(ack: Acknowledgement) -> tuple[str, str]:
    """The overall status in words, and the sentence saying what it means for the sender."""
    if ack.outcome is Outcome.ACCEPTED:
        return "Accepté", "Tout le contenu du fichier est accepté."
    if ack.outcome is Outcome.PARTLY_ACCEPTED:
        return (
            "Partiellement accepté",
            "Une partie du fichier est refusée : voyez le statut de chaque élément et les anomalies ci-dessous.",
        )
    if ack.outcome is Outcome.REFUSED:
        return (
            "Refusé",
            "Rien n'a été enregistré : corrigez les anomalies ci-dessous et déposez à nouveau le fichier.",
        )
    if ack.outcome is Outcome.DUPLICATE:
        earlier = ack.duplicate_of or "inconnue"
        return (
            f"Doublon d'un envoi antérieur (référence {earlier})",
            (
                "Ce fichier a déjà été reçu à l'identique : rien n'a été enregistré une seconde fois ; "
                "l'accusé de réception de l'envoi antérieur reste valable."
            ),
        )
    return (
        f"Erreur technique — citez la référence {ack.reference}",
        (
            "Le fichier n'a pas pu être traité. Il est conservé : contactez le Service Recouvrement des "
            "Caisses Sociales de Monaco en citant cette référence."
        ),
    )


def _listed(ack: Acknowledgement) -> int:
    return (
        len(ack.findings)
        + sum(len(d.findings) for d in ack.declarations)
        + sum(len(p.findings) for p in ack.payslips)
    )


def _cap_sentence(ack: Acknowledgement) -> str | None:
    listed = _listed(ack)
    if ack.total_findings > listed:
        return f"{fr_int(ack.total_findings)} anomalies au total, les {fr_int(listed)} premières sont listées."
    return None


def _summary(sheet: sheets.Sheet, ack: Acknowledgement) -> None:
    words, meaning = status_words(ack)
    sheet.para(TITLE, sheets.S_TITLE, space_after=3)
    sheet.labelled("Référence à rappeler :", ack.reference, sheets.S_BIG, space_after=2 * mm)
    sheet.labelled("Statut :", words, sheets.S_STRONG)
    sheet.para(meaning, space_after=2)
    if ack.test:
        sheet.para("Fichier de test : entièrement contrôlé, rien n'a été enregistré.", sheets.S_STRONG)
    listed = _listed(ack)
    if ack.total_findings or listed:
        count = max(ack.total_findings, listed)
        noun = "anomalie" if count == 1 else "anomalies"
        sheet.para(_cap_sentence(ack) or f"{fr_int(count)} {noun} : voir le détail ci-dessous.", space_after=2)
    sheet.space(3 * mm)
    sheet.key_values(
        [
            ("Fichier", ack.file_name),
            ("Taille", f"{fr_int(ack.size)} octets"),
            ("SHA-256", ack.sha256),
            ("Reçu le", f"{fr_datetime(ack.received_at)} (heure de Monaco)"),
            ("Traité le", f"{fr_datetime(ack.processed_at)} (heure de Monaco)"),
            ("Abonné", ack.subscriber),
            ("Nature", KIND_FR[ack.kind] if ack.kind else "non identifiée"),
        ]
    )


def _employer(number: str, name: str | None) -> sheets.CellValue:
    return (sheets.Para(name), sheets.Para(number, sheets.S_CELL_SMALL)) if name else number


def _declarations(sheet: sheets.Sheet, decls: Sequence[AckDeclaration]) -> None:
    header = ["N°", "Employeur", "Période", "Référence", "Statut", "Salariés", "Brut total", "Heures", "Retard"]
    rows = [
        sheets.Row(
            [
                str(d.index),
                _employer(d.employer, d.employer_name),
                fr_period(d.period),
                sheets.Para(d.reference or "—", sheets.S_CELL_REF),
                DECLARATION_STATUS_FR[d.status],
                fr_int(d.employees),
                fr_amount(d.total_gross),
                fr_hours(d.total_hours),
                "oui" if d.late else "non",
            ]
        )
        for d in decls
    ]
    sheet.heading("Déclarations")
    sheet.table([18, 108, 56, 108, 46, 40, 64, 42, 34], header, rows, right=(0, 5, 6, 7))


def _contributions(sheet: sheets.Sheet, d: AckDeclaration) -> None:
    rows = [
        sheets.Row([f.label or f.fund, fr_amount(f.base), "—" if f.rate is None else format_rate(f.rate),
                 fr_amount(f.employer), fr_amount(f.employee)])
        for f in d.funds
    ]  # fmt: skip
    # Totals of the columns shown: sums of amounts already rounded per line upstream.
    employer = sum((f.employer for f in d.funds), Decimal("0.00"))
    employee = sum((f.employee for f in d.funds), Decimal("0.00"))
    rows.append(sheets.Row(["Total", "", "", fr_amount(employer), fr_amount(employee)], sheets.S_CELL_BOLD, rule_above=0.8))
    sheet.heading(f"Cotisations — déclaration n° {d.index}, employeur {d.employer}, {fr_period(d.period)}", sheets.S_H3)
    sheet.table([200, 85, 55, 88, 88], ["Caisse", "Base", "Taux", "Part patronale", "Part salariale"], rows,
                right=(1, 2, 3, 4))


def _payslips(sheet: sheets.Sheet, slips: Sequence[AckPayslip]) -> None:
    rows = [
        sheets.Row([str(p.index), p.employer, fr_period(p.period), p.registration, PAYSLIP_STATUS_FR[p.status],
                 fr_amount(p.gross), fr_amount(p.net), sheets.Para(p.document or "—", sheets.S_CELL_SMALL)])
        for p in slips
    ]  # fmt: skip
    sheet.heading("Bulletins de salaire")
    sheet.table([18, 60, 58, 58, 40, 68, 68, 146],
                ["N°", "Employeur", "Période", "Matricule", "Statut", "Brut", "Net", "Document"], rows,
                right=(0, 5, 6))  # fmt: skip


def _applied_value(r: AppliedValue) -> str:
    """A dated value in French, by its unit: ``6,85 %``, ``6 112,00 €``, ``169,00 h``, ``× 8``."""
    if r.unit in ("rate", "fraction"):
        return format_rate(r.value)
    if r.unit == "amount":
        return fr_amount(r.value)
    if r.unit == "hours":
        return fr_hours(r.value)
    if r.unit == "flag":
        return "oui" if r.value else "non"
    number = f"{r.value.normalize():f}".replace(".", ",")
    return f"× {number}" if r.unit == "factor" else number


def _rates(sheet: sheets.Sheet, ack: Acknowledgement) -> None:
    """Every dated value the amounts come from, one row each by its French label (sources in the XML)."""
    applied = sorted(ack.rates, key=lambda r: ((r.label or r.parameter).casefold(), r.since))
    rows = [
        sheets.Row([r.label or r.parameter, _applied_value(r), fr_date(r.since),
                 sheets.Para("non confirmé", sheets.S_CELL_BOLD) if r.unconfirmed else "confirmé"])
        for r in applied
    ]  # fmt: skip
    sheet.heading("Taux et plafonds appliqués")
    sheet.table([235, 95, 95, 90], ["Valeur", "Taux / montant", "En vigueur depuis", "Statut"], rows,
                right=(1,))
    sheet.space(2)
    sheet.para("La source de chaque valeur figure dans l'accusé XML (éléments « rate ») ; "
               "les valeurs en vigueur à une date : « gateway rates show --date AAAA-MM-JJ ».", sheets.S_CELL_SMALL)


def _findings_table(sheet: sheets.Sheet, findings: Sequence[Finding]) -> None:
    rows = [
        sheets.Row([SEVERITY_FR[f.severity], f.code, _place(f), f.message, f.expected or "—"])
        for f in findings
    ]
    sheet.table([66, 96, 110, 148, 95], ["Gravité", "Code", "Emplacement", "Message", "Attendu"], rows)


def _place(f: Finding) -> sheets.CellValue:
    """``ligne 12, colonne « gross »`` with the XPath, when there is one, on a line of its own."""
    loc = f.location
    where = Location(line=loc.line, column=loc.column, field=loc.field).describe()
    if not where and not loc.xpath:
        return "fichier entier"
    if where and loc.xpath:
        return (sheets.Para(where), sheets.Para(loc.xpath, sheets.S_CELL_SMALL))
    return where or loc.xpath or ""


def _findings(sheet: sheets.Sheet, ack: Acknowledgement) -> None:
    groups: list[tuple[str, Sequence[Finding]]] = []
    if ack.findings:
        groups.append(("Fichier", ack.findings))
    for d in ack.declarations:
        if d.findings:
            groups.append((f"Déclaration n° {d.index} — employeur {d.employer}, {fr_period(d.period)}", d.findings))
    for p in ack.payslips:
        if p.findings:
            groups.append((f"Bulletin n° {p.index} — employeur {p.employer}, matricule {p.registration}", p.findings))
    if not groups:
        return
    sheet.heading("Anomalies")
    cap = _cap_sentence(ack)
    if cap:
        sheet.para(cap, sheets.S_STRONG)
    for title, findings in groups:
        sheet.heading(title, sheets.S_H3)
        _findings_table(sheet, findings)


def render_ack_pdf(ack: Acknowledgement) -> bytes:
    """The French PDF acknowledgement; the same value always gives the same bytes."""
    sheet = sheets.Sheet()
    _summary(sheet, ack)
    if ack.declarations:
        _declarations(sheet, ack.declarations)
        for d in ack.declarations:
            if d.funds:
                _contributions(sheet, d)
    if ack.payslips:
        _payslips(sheet, ack.payslips)
    _findings(sheet, ack)
    if ack.notes:
        sheet.heading("Notes")
        for note in ack.notes:
            sheet.para(f"• {note}", space_after=2)
    if ack.rates:
        _rates(sheet, ack)
    return sheet.render(title=TITLE, reference=ack.reference, test=ack.test, subject=ack.file_name)
