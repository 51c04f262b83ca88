"""Statements (relevés de cotisations): once period M is closed (after the due day of M+1), one PDF per
employer on direct debit with a declaration for M, and one e-mail per subscriber that has new ones.

Figures come from the employer's account. Each run also looks again at the periods already stated: when
the account of one of them changed (a correction, a collection returned), a new version is issued — same
reference, version number, « annule et remplace le relevé du … » — with an e-mail; the earlier versions
stay in the outbox and in the history. Employers not on direct debit get none (the Caisses send theirs on
paper), nor do employers with a payment incident (on paper too, until the incident is cleared).
"""

from __future__ import annotations

from collections import defaultdict

from gateway.domain import Period
from gateway.errors import InputError
from gateway.jobs.base import JobContext, JobResult, closed_period, debit_date, due_date
from gateway.render.text import fr_amount, fr_date, fr_period
from gateway.rules.account import statement_figures
from gateway.store.account import AccountStore

KIND = "statement"
LOOK_BACK = 24  # months of stated periods looked at again for a new version


def refuse(ctx: JobContext, period: Period) -> str | None:
    """Why no statement can be issued for ``period`` today (still open), else None."""
    if period > closed_period(ctx.config, ctx.today):
        closes = due_date(ctx.config, period)
        return (f"la période {period} n'est pas close : ses relevés sont émis après l'échéance du "
                f"{fr_date(closes)}, à partir du lendemain")
    return None


def run(ctx: JobContext, period: Period) -> JobResult:
    problem = refuse(ctx, period)
    if problem:
        raise InputError(problem)
    result = JobResult("statements", str(period))
    account = AccountStore(ctx.store)
    since = period
    for _ in range(LOOK_BACK):
        since = since.previous()
    periods = sorted({str(period), *(p for p in account.stated_periods(str(since)) if p < str(period))})
    new: dict[int, list[str]] = defaultdict(list)
    subscribers = ctx.jobs.subscribers()
    emails = {sub.id: sub.email for sub in subscribers}
    for p in periods:
        _state(ctx, result, account, Period.parse(p), new, emails)
    for sub in subscribers:
        if sub.id not in new:
            continue
        body = (f"Bonjour,\n\nLes relevés de cotisations de {fr_period(str(period))} sont disponibles dans votre "
                "dossier de retour (outbox), pour les clients suivants :\n\n"
                + "\n".join(f"  - {n}" for n in new[sub.id])
                + "\n\nLes montants seront prélevés à la date indiquée sur chaque relevé.")
        ctx.mail(result, key=f"statements:{period}:{sub.number}", subscriber_id=sub.id, recipient=sub.email,
                 subject=f"Relevés de cotisations de {fr_period(str(period))} disponibles", body=body)
    return result


def _state(ctx: JobContext, result: JobResult, account: AccountStore, period: Period,
           new: dict[int, list[str]], emails: dict[int, str | None]) -> None:
    """Issue the statements of ``period`` that are due: a first version, or a new one when the figures moved."""
    from gateway.render.statement_pdf import StatementHeader, render_statement_pdf

    cfg = ctx.config
    for c in ctx.jobs.clients(period.last_day):
        if not c.direct_debit or not c.mandate_reference:
            continue
        figures = statement_figures(c.number, str(period), account.entries(c.employer_id))
        if not figures.declarations:
            continue
        if c.payment_incident_at is not None:
            result.notes.append(f"{c.number} {period}: incident de paiement, relevé envoyé sur papier")
            continue
        versions = account.statements(c.employer_id, str(period))
        last = versions[-1] if versions else None
        if last is not None and last.fingerprint == figures.fingerprint():
            result.skipped += 1
            continue
        version = last.version + 1 if last else 1
        reference = f"RC-{c.number}-{period}"
        name = f"releve-{c.number}-{period}.pdf" if version == 1 else f"releve-{c.number}-{period}-v{version}.pdf"
        path = ctx.layout.employer_doc(c.subscriber, c.number, "statements", name, str(period))
        debit_on = debit_date(cfg, period, ctx.today) if figures.to_debit > 0 else None
        result.took.append(f"{c.number}:{period}:v{version}:{','.join(figures.declarations)}")
        header = StatementHeader(c.name, c.address, c.mandate_reference, c.iban, cfg.sepa.creditor_name,
                                 cfg.sepa.creditor_id, reference, version,
                                 last.issued_at.astimezone(cfg.tz) if last else None)

        def render(figures=figures, header=header, debit_on=debit_on) -> bytes:  # type: ignore[no-untyped-def]
            return render_statement_pdf(figures, header, debit_on=debit_on, made_at=ctx.now)

        made = ctx.deliver(result, kind=KIND, path=path, render=render, subscriber_id=c.subscriber_id,
                           employer_id=c.employer_id, period=str(period))
        if ctx.dry_run or not (made or ctx.jobs.has_document(str(path))):
            continue
        # recorded after its document (a crash between the two: the next run finds the document, records it)
        if not account.add_statement(employer_id=c.employer_id, period=str(period), version=version,
                                     reference=reference, fingerprint=figures.fingerprint(),
                                     balance=figures.balance, debit_on=debit_on, path=str(path), at=ctx.now):
            continue
        if last is None:
            new[c.subscriber_id].append(f"{c.number} — {c.name}")
            continue
        what = (f"Montant qui sera prélevé : {fr_amount(figures.to_debit)}, le {fr_date(debit_on)}." if debit_on else
                f"Crédit en votre faveur : {fr_amount(figures.credit)}, reporté sur le prochain relevé."
                if figures.credit else "Aucun montant supplémentaire n'est dû.")
        ctx.mail(result, key=f"statement:{c.number}:{period}:v{version}", subscriber_id=c.subscriber_id,
                 recipient=emails.get(c.subscriber_id),
                 subject=f"Relevé de cotisations de {fr_period(str(period))}, {c.number} : version {version}",
                 body=(f"Bonjour,\n\nLe relevé de cotisations de {fr_period(str(period))} de {c.number} — {c.name} "
                       f"a été modifié. La version {version} ({path.name}, dans votre dossier de retour) annule et "
                       f"remplace le relevé du {fr_date(last.issued_at.astimezone(cfg.tz).date())}.\n\n{what}\n\n"
                       "Service Recouvrement : +377 93 15 49 62, recouvrement@caisses-sociales.mc"))
