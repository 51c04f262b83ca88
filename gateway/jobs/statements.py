"""Statements (relevés de cotisations): once period M is closed (after the due day of M+1), one PDF per
employer on direct debit with a computed declaration, and one e-mail per subscriber that has new ones.

Employers not on direct debit get none: the Caisses send theirs on paper.
"""

from __future__ import annotations

from collections import defaultdict

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult, debit_date
from gateway.render.text import fr_period
from gateway.rules.contributions import fund_totals

KIND = "statement"


def run(ctx: JobContext, period: Period) -> JobResult:
    result = JobResult("statements", str(period))
    jobs, cfg = ctx.jobs, ctx.config
    debit_on = debit_date(cfg, period, ctx.today)
    new: dict[int, list[str]] = defaultdict(list)
    for c in jobs.clients(period.last_day):
        if not c.direct_debit or not c.mandate_reference:
            continue
        lines, references = jobs.contribution_lines(c.employer_id, period)
        if not lines:
            continue
        result.took.append(f"{c.number}:{','.join(references)}")
        path = ctx.layout.employer_doc(c.subscriber, c.number, "statements",
                                       f"releve-{c.number}-{period}.pdf", str(period))

        def render(c=c, lines=lines, references=references) -> bytes:  # type: ignore[no-untyped-def]
            from gateway.render.statement_pdf import render_statement_pdf

            return render_statement_pdf(
                employer=c.number, employer_name=c.name, employer_address=c.address, period=str(period),
                funds=fund_totals(lines), declarations=references, debit_on=debit_on,
                mandate_reference=c.mandate_reference or "", iban=c.iban, creditor_name=cfg.sepa.creditor_name,
                creditor_id=cfg.sepa.creditor_id, made_at=ctx.now, reference=f"RC-{c.number}-{period}")

        if ctx.deliver(result, kind=KIND, path=path, render=render, subscriber_id=c.subscriber_id,
                       employer_id=c.employer_id, period=str(period)):
            new[c.subscriber_id].append(f"{c.number} — {c.name}")
    for sub in jobs.subscribers():
        if sub.id not in new:
            continue
        body = (f"Bonjour,\n\nLes relevés de cotisations de {fr_period(str(period))} sont disponibles dans votre "
                "dossier de retour (outbox), pour les clients suivants :\n\n"
                + "\n".join(f"  - {n}" for n in new[sub.id])
                + "\n\nLes montants seront prélevés à la date indiquée sur chaque relevé.")
        ctx.mail(result, key=f"statements:{period}:{sub.number}", subscriber_id=sub.id, recipient=sub.email,
                 subject=f"Relevés de cotisations de {fr_period(str(period))} disponibles", body=body)
    return result
