"""The SEPA Core direct-debit mandate (mandat de prélèvement SEPA) to sign, pre-filled for one employer.

Creditor name, address and identifier come from the configuration; the mandate reference is issued by the
gateway and kept on the employer. IBAN, BIC, place, date and signature are left blank for the debtor.
The wording is the standard text of the European Payments Council's SEPA Core rulebook, in French.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from gateway.render import flow, fonts

TITLE = "Mandat de prélèvement SEPA"

AUTHORISATION = (
    "En signant ce formulaire de mandat, vous autorisez {creditor} à envoyer des instructions à votre banque "
    "pour débiter votre compte, et votre banque à débiter votre compte conformément aux instructions de "
    "{creditor}. Vous bénéficiez du droit d'être remboursé par votre banque selon les conditions décrites dans "
    "la convention que vous avez passée avec elle. Une demande de remboursement doit être présentée dans les "
    "8 semaines suivant la date de débit de votre compte pour un prélèvement autorisé."
)


def _blank(label: str, boxes: int | None = None, height: float = 9 * mm) -> Table:
    """A labelled empty field: a row of character boxes (IBAN, BIC) or a ruled box (date, signature)."""
    if boxes:
        width = fonts.CONTENT_WIDTH - 45 * mm
        cells = [[""] * boxes]
        # the same box size for IBAN (34) and BIC (11): one character per box
        box = Table(cells, colWidths=[width / 34] * boxes, rowHeights=[height],
                    style=TableStyle([("GRID", (0, 0), (-1, -1), 0.5, fonts.BLACK)]))
    else:
        box = Table([[""]], colWidths=[fonts.CONTENT_WIDTH - 45 * mm], rowHeights=[height],
                    style=TableStyle([("BOX", (0, 0), (-1, -1), 0.5, fonts.BLACK)]))
    return Table([[flow.para(label, flow.CELL_BOLD), box]], colWidths=[45 * mm, fonts.CONTENT_WIDTH - 45 * mm],
                 style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]), hAlign="LEFT")


def render_mandate_pdf(
    *, employer: str, employer_name: str, employer_address: str, mandate_reference: str, creditor_name: str,
    creditor_id: str, creditor_address: str,
) -> bytes:
    story: list[Flowable] = [
        flow.para(TITLE, flow.TITLE),
        flow.para("Prélèvement SEPA Core (CORE) — paiement récurrent", flow.SMALL),
        Spacer(0, 3 * mm),
        flow.labelled("Référence unique du mandat :", mandate_reference, flow.STRONG),
        Spacer(0, 3 * mm),
        flow.para(AUTHORISATION.format(creditor=creditor_name), flow.BODY),
        *flow.heading("Créancier"),
        flow.key_values([
            ("Nom", creditor_name),
            ("Adresse", creditor_address),
            ("Identifiant créancier SEPA (ICS)", creditor_id),
        ], widths=(45 * mm, 0)),
        *flow.heading("Débiteur"),
        flow.key_values([
            ("Nom", employer_name),
            ("Adresse", employer_address or "—"),
            ("N° employeur", employer),
        ], widths=(45 * mm, 0)),
        Spacer(0, 3 * mm),
        flow.para("À compléter par le débiteur", flow.H3),
        _blank("IBAN", 34),
        _blank("BIC", 11),
        _blank("Fait à"),
        _blank("Le (date)"),
        _blank("Signature", height=28 * mm),
        Spacer(0, 4 * mm),
        flow.para("Type de paiement : récurrent. Retournez ce mandat daté et signé, accompagné d'un relevé "
                 "d'identité bancaire (RIB), au Service Recouvrement des Caisses Sociales de Monaco, "
                 "11 rue Louis Notari, MC 98030 Monaco Cedex (recouvrement@caisses-sociales.mc). Vos droits "
                 "concernant le présent mandat sont expliqués dans un document que vous pouvez obtenir auprès "
                 "de votre banque.", flow.SMALL),
    ]
    return flow.build(story, title=f"{TITLE} — employeur {employer}", reference=mandate_reference,
                     subject=employer_name, one_page=True)
