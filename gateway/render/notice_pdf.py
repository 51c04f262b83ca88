"""The correction notice (avis de correction) as PDF: what a complementary or rectifying declaration recorded
by the recovery department changes in what an employer owes for a period, and what happens next.

Per fund: what was owed before, what is owed now and the difference, each with its employer and employee
shares (« dont »), so that Dû avant + Différence = Dû après can be checked on every line. Then the one
thing the employer has to know: an amount due (debited or to pay, and when), a credit carried to the next
statement, or nothing more. The figures are the notice's (:class:`~gateway.rules.account.CorrectionNotice`,
read from the account); nothing is computed here but the sums of the shown lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from gateway.errors import RenderError
from gateway.money import ZERO
from gateway.render import flow
from gateway.render.text import fr_amount, fr_change, fr_date, fr_datetime, fr_period
from gateway.rules.account import COMPLEMENTARY, RECTIFYING, CorrectionNotice

TITLE = "Avis de correction"
CONTACT = ("Pour toute question : Service Recouvrement, +377\u00a093\u00a015\u00a049\u00a062, "
           "recouvrement@caisses-sociales.mc")
_KIND = {
    COMPLEMENTARY: "Déclaration complémentaire (s'ajoute à la déclaration {original})",
    RECTIFYING: "Déclaration rectificative (remplace la déclaration {original})",
}
_WIDTHS = (245, 90, 90, 90)  # Caisse | Dû avant | Dû après | Différence: 515 pt, the content width
_SHARE = ParagraphStyle("notice-share", parent=flow.CELL_SMALL, leftIndent=8)
_SHARE_RIGHT = ParagraphStyle("notice-share-right", parent=flow.CELL_SMALL, alignment=TA_RIGHT)
_NOTE = ParagraphStyle("notice-note", parent=flow.BODY, leftIndent=9, firstLineIndent=-9)  # under its text


def kind_text(notice: CorrectionNotice) -> str:
    """« Déclaration rectificative (remplace la déclaration GW-…-D1) »."""
    if notice.kind not in _KIND:
        raise RenderError(f"avis de correction {notice.reference}: nature inconnue {notice.kind!r}")
    return _KIND[notice.kind].format(original=notice.original_reference)


Figures = tuple[Decimal, Decimal, Decimal, Decimal]  # before employer, before employee, now employer, now employee


def _rows(label: flow.Cell, figures: Figures) -> list[list[flow.Cell]]:
    """A fund (or the total): its line, then one « dont » line per share owed before or after."""
    before_er, before_ee, now_er, now_ee = figures
    before, now = before_er + before_ee, now_er + now_ee
    rows: list[list[flow.Cell]] = [[label, fr_amount(before), fr_amount(now), fr_change(now - before)]]
    for name, old, new in (("part patronale", before_er, now_er), ("part salariale", before_ee, now_ee)):
        if old or new:
            rows.append([flow.para(f"dont {name}", _SHARE), flow.para(fr_amount(old), _SHARE_RIGHT),
                         flow.para(fr_amount(new), _SHARE_RIGHT), flow.para(fr_change(new - old), _SHARE_RIGHT)])
    return rows


def _sum(figures: Iterable[Figures]) -> Figures:
    totals = [ZERO, ZERO, ZERO, ZERO]
    for f in figures:
        totals = [t + x for t, x in zip(totals, f, strict=True)]
    return totals[0], totals[1], totals[2], totals[3]


def funds_table(notice: CorrectionNotice) -> Table:
    """Caisse | Dû avant | Dû après | Différence, each fund with its shares, then the totals."""
    figures = [(f.before_employer, f.before_employee, f.now_employer, f.now_employee) for f in notice.funds]
    rows: list[list[flow.Cell]] = [["Caisse", "Dû avant", "Dû après", "Différence"]]
    groups = [_rows(flow.para(fund.label or fund.fund, flow.CELL_BOLD), fig)
              for fund, fig in zip(notice.funds, figures, strict=True)]
    total = _rows("Total", _sum(figures))
    keep: list[tuple[int, int]] = []
    unruled: list[int] = []
    for group in [*groups, total]:  # a fund and its shares: one block, never split, ruled below only
        keep.append((len(rows), len(rows) + len(group) - 1))
        unruled += range(len(rows), len(rows) + len(group) - 1)
        rows += group
    return flow.table(rows, _WIDTHS, right=(1, 2, 3), total_rows=len(total), keep_rows=keep,
                      unruled_rows=unruled)


def next_step(notice: CorrectionNotice) -> list[Flowable]:
    """What the difference means for the employer: an amount due, a credit, or nothing more."""
    difference = notice.difference
    if difference > 0:
        if notice.due_on is None:
            raise RenderError(f"avis de correction {notice.reference}: montant complémentaire dû sans échéance")
        when = (f"Ce montant sera prélevé le {fr_date(notice.due_on)} sur le compte du mandat de prélèvement "
                "SEPA." if notice.direct_debit else
                f"Ce montant est à régler avant le {fr_date(notice.due_on)}, en rappelant la référence "
                f"{notice.reference}.")
        return [flow.labelled("Montant complémentaire dû :", fr_amount(difference), flow.BIG), flow.para(when)]
    if difference < 0:
        return [flow.labelled("Crédit en votre faveur :", fr_amount(-difference), flow.BIG),
                flow.para("Ce crédit est reporté sur le prochain relevé de cotisations, où il vient en déduction "
                          "du montant dû ; il n'est ni prélevé ni remboursé séparément.")]
    story: list[Flowable] = [flow.para("Aucun montant supplémentaire n'est dû.", flow.BIG)]
    if any(f.before_employer != f.now_employer or f.before_employee != f.now_employee for f in notice.funds):
        story.append(flow.para("Seule la répartition des montants entre caisses ou entre parts change, comme "
                               "indiqué ci-dessus."))
    return story


def render_notice_pdf(notice: CorrectionNotice, *, made_at: datetime) -> bytes:
    """The notice as a French PDF for the employer's outbox; the same notice and time give the same bytes."""
    period = fr_period(notice.period)
    story: list[Flowable] = [
        flow.para(f"{TITLE} — {period}", flow.TITLE),
        flow.para(kind_text(notice), flow.STRONG),
        Spacer(0, 3 * mm),
        flow.key_values([
            ("Employeur", flow.lines([notice.employer_name, notice.employer_address,
                                      f"N° employeur : {notice.employer}"], flow.CELL, bold_first=True)),
            ("Période", period),
            ("Référence de la correction", notice.reference),
            ("Déclaration d'origine", notice.original_reference),
            ("Enregistrée le", f"{fr_datetime(notice.recorded_at)} (heure de Monaco)"),
            ("Motif", notice.reason),
            ("Établi le", f"{fr_datetime(made_at)} (heure de Monaco)"),
        ], widths=(45 * mm, 0)),
        *flow.heading("Cotisations par caisse, avant et après la correction"),
        funds_table(notice),
        Spacer(0, 1.5 * mm),
        flow.para("Dû après = Dû avant + Différence, pour chaque caisse et chaque part (« dont »).", flow.SMALL),
        *flow.heading("Règlement"),
        *next_step(notice),
    ]
    if notice.notes:
        story += flow.heading("Remarques")
        story += [flow.para(f"• {note}", _NOTE) for note in notice.notes]
    story += [Spacer(0, 5 * mm), flow.para(f"{CONTACT} (référence à rappeler : {notice.reference}).", flow.SMALL)]
    title = f"{TITLE} {period} — employeur {notice.employer}"
    return flow.build(story, title=title, reference=notice.reference, subject=notice.employer_name)
