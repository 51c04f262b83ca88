"""The acknowledgement as a French PDF (« Accusé de réception ») that an accountant reads at a glance.

Top: the reference to quote and the overall status in words. Then the file's identity, the declarations
(or payslips) with their figures and contributions, and every finding with its place in the file.
Status is said in words, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from gateway.domain import (
    AckDeclaration,
    Acknowledgement,
    AckPayslip,
    FileKind,
    Finding,
    ItemStatus,
    Location,
    Outcome,
    Severity,
)
from gateway.money import format_rate
from gateway.render import pdf
from gateway.render.text import fr_amount, fr_datetime, fr_hours, fr_int, fr_period

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


def _summary(ack: Acknowledgement) -> list[Flowable]:
    words, meaning = status_words(ack)
    story: list[Flowable] = [
        pdf.para(TITLE, pdf.TITLE),
        pdf.labelled("Référence à rappeler :", ack.reference, pdf.BIG),
        Spacer(0, 2 * mm),
        pdf.labelled("Statut :", words, pdf.STRONG),
        pdf.para(meaning),
    ]
    if ack.test:
        story.append(pdf.para("Fichier de test : entièrement contrôlé, rien n'a été enregistré.", pdf.STRONG))
    listed = _listed(ack)
    if ack.total_findings or listed:
        count = max(ack.total_findings, listed)
        noun = "anomalie" if count == 1 else "anomalies"
        story.append(pdf.para(_cap_sentence(ack) or f"{fr_int(count)} {noun} : voir le détail ci-dessous."))
    story.append(Spacer(0, 3 * mm))
    story.append(
        pdf.key_values(
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
    )
    return story


def _employer(number: str, name: str | None) -> Flowable:
    return pdf.with_detail(name, number, pdf.CELL) if name else pdf.para(number, pdf.CELL)


def _declarations(decls: Sequence[AckDeclaration]) -> list[Flowable]:
    header = ["N°", "Employeur", "Période", "Référence", "Statut", "Salariés", "Brut total", "Heures", "Retard"]
    rows: list[list[pdf.Cell]] = [header]
    for d in decls:
        rows.append(
            [
                str(d.index),
                _employer(d.employer, d.employer_name),
                pdf.para(fr_period(d.period), pdf.CELL),
                pdf.para(d.reference or "—", pdf.CELL_REF),
                DECLARATION_STATUS_FR[d.status],
                fr_int(d.employees),
                fr_amount(d.total_gross),
                fr_hours(d.total_hours),
                "oui" if d.late else "non",
            ]
        )
    return [
        *pdf.heading("Déclarations"),
        pdf.table(rows, [18, 108, 56, 108, 46, 40, 64, 42, 34], right=(0, 5, 6, 7)),
    ]


def _contributions(d: AckDeclaration) -> list[Flowable]:
    rows: list[list[pdf.Cell]] = [["Caisse", "Base", "Taux", "Part patronale", "Part salariale"]]
    for f in d.funds:
        rows.append(
            [
                pdf.para(f.label or f.fund, pdf.CELL),
                fr_amount(f.base),
                "—" if f.rate is None else format_rate(f.rate),
                fr_amount(f.employer),
                fr_amount(f.employee),
            ]
        )
    # Totals of the columns shown: sums of amounts already rounded per line upstream.
    employer = sum((f.employer for f in d.funds), Decimal("0.00"))
    employee = sum((f.employee for f in d.funds), Decimal("0.00"))
    rows.append(["Total", "", "", fr_amount(employer), fr_amount(employee)])
    title = f"Cotisations — déclaration n° {d.index}, employeur {d.employer}, {fr_period(d.period)}"
    return [
        *pdf.heading(title, pdf.H3),
        pdf.table(rows, [200, 85, 55, 88, 88], right=(1, 2, 3, 4), total_rows=1),
    ]


def _payslips(slips: Sequence[AckPayslip]) -> list[Flowable]:
    rows: list[list[pdf.Cell]] = [["N°", "Employeur", "Période", "Matricule", "Statut", "Brut", "Net", "Document"]]
    for p in slips:
        rows.append(
            [
                str(p.index),
                pdf.para(p.employer, pdf.CELL),
                pdf.para(fr_period(p.period), pdf.CELL),
                pdf.para(p.registration, pdf.CELL),
                PAYSLIP_STATUS_FR[p.status],
                fr_amount(p.gross),
                fr_amount(p.net),
                pdf.para(p.document or "—", pdf.CELL_SMALL),
            ]
        )
    return [
        *pdf.heading("Bulletins de salaire"),
        pdf.table(rows, [18, 60, 58, 58, 40, 68, 68, 146], right=(0, 5, 6)),
    ]


def _rates(ack: Acknowledgement) -> list[Flowable]:
    """Every dated value the amounts come from, in one compact paragraph (sources in full in the XML)."""
    parts = []
    for r in ack.rates:
        value = (format_rate(r.value) if r.unit == "rate" else
                 fr_amount(r.value) if r.unit == "amount" else f"{r.value:f}")
        flag = ", non confirmé" if r.unconfirmed else ""
        parts.append(f"{r.parameter} = {value} (depuis le {r.since:%d/%m/%Y}{flag})")
    return [
        *pdf.heading("Taux et plafonds appliqués"),
        pdf.para(" · ".join(parts), pdf.CELL_SMALL),
        pdf.para("La source de chaque valeur figure dans l'accusé XML (éléments « rate ») ; "
                 "les valeurs en vigueur à une date : « gateway rates show --date AAAA-MM-JJ ».", pdf.CELL_SMALL),
    ]


def _findings_table(findings: Sequence[Finding]) -> Flowable:
    rows: list[list[pdf.Cell]] = [["Gravité", "Code", "Emplacement", "Message", "Attendu"]]
    for f in findings:
        rows.append(
            [
                pdf.para(SEVERITY_FR[f.severity], pdf.CELL),
                pdf.para(f.code, pdf.CELL),
                _place(f),
                pdf.para(f.message, pdf.CELL),
                pdf.para(f.expected or "—", pdf.CELL),
            ]
        )
    return pdf.table(rows, [66, 96, 110, 148, 95])


def _place(f: Finding) -> Flowable:
    """``ligne 12, colonne « gross »`` with the XPath, when there is one, on a line of its own."""
    loc = f.location
    where = Location(line=loc.line, column=loc.column, field=loc.field).describe()
    if not where and not loc.xpath:
        return pdf.para("fichier entier", pdf.CELL)
    return pdf.with_detail(where or loc.xpath, loc.xpath if where else None, pdf.CELL)


def _findings(ack: Acknowledgement) -> list[Flowable]:
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
        return []
    story: list[Flowable] = [*pdf.heading("Anomalies")]
    cap = _cap_sentence(ack)
    if cap:
        story.append(pdf.para(cap, pdf.STRONG))
    for title, findings in groups:
        story += [*pdf.heading(title, pdf.H3), _findings_table(findings)]
    return story


def render_ack_pdf(ack: Acknowledgement) -> bytes:
    """The French PDF acknowledgement; the same value always gives the same bytes."""
    story = _summary(ack)
    if ack.declarations:
        story += _declarations(ack.declarations)
        for d in ack.declarations:
            if d.funds:
                story += _contributions(d)
    if ack.payslips:
        story += _payslips(ack.payslips)
    story += _findings(ack)
    if ack.notes:
        story += pdf.heading("Notes")
        story += [pdf.para(f"• {note}") for note in ack.notes]
    if ack.rates:
        story += _rates(ack)
    return pdf.build(story, title=TITLE, reference=ack.reference, test=ack.test, subject=ack.file_name)
