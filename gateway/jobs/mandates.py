"""SEPA mandates: for each active employer not on direct debit, a pre-filled SEPA Core mandate to sign,
once (its reference is issued and kept on the employer the first time). None while the Caisses' creditor
identifier (ICS) is not set: the run ends with a warning that names the setting."""

from __future__ import annotations

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult

KIND = "sepa-mandate"


def mandate_reference(employer: str) -> str:
    """``CSM-<employer>-M1``: unique because the employer number is, and made of SEPA-allowed characters."""
    return f"CSM-{employer}-M1"


def run(ctx: JobContext, period: Period) -> JobResult:
    from gateway.config import creditor_id_missing

    result = JobResult("mandates", str(period))
    cfg = ctx.config
    missing = creditor_id_missing(cfg)
    if missing:  # a mandate names its creditor: none is issued with a blank or a wrong identifier
        result.warnings.append(f"aucun mandat émis: {missing}")
        return result
    for c in ctx.jobs.clients(ctx.today, active_only=True):
        if c.direct_debit:
            continue
        result.took.append(c.number)
        reference = c.mandate_reference or mandate_reference(c.number)
        path = ctx.layout.employer_doc(c.subscriber, c.number, "mandate", f"mandat-sepa-{reference}.pdf")
        if ctx.jobs.has_document(str(path)):
            result.skipped += 1
            continue
        if not ctx.dry_run:
            reference = ctx.jobs.issue_mandate_reference(c.employer_id, reference)

        def render(c=c, reference=reference) -> bytes:  # type: ignore[no-untyped-def]
            from gateway.render.mandate_pdf import render_mandate_pdf

            return render_mandate_pdf(employer=c.number, employer_name=c.name, employer_address=c.address,
                                      mandate_reference=reference, creditor_name=cfg.sepa.creditor_name,
                                      creditor_id=cfg.sepa.creditor_id, creditor_address=cfg.sepa.creditor_address)

        ctx.deliver(result, kind=KIND, path=path, render=render, subscriber_id=c.subscriber_id,
                    employer_id=c.employer_id)
    return result
