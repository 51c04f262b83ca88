"""Synthesis, daily: per subscriber, a CSV and a PDF of its clients' status for the current period."""

from __future__ import annotations

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult, due_date
from gateway.render.synthesis import ClientStatus

KIND = "synthesis"


def client_statuses(ctx: JobContext, subscriber: str, period: Period) -> list[ClientStatus]:
    """What ``gateway clients`` and the synthesis show: one line per client assigned today."""
    out = []
    past_due = ctx.today > due_date(ctx.config, period)
    for c in ctx.jobs.clients(ctx.today, subscriber):
        d = ctx.jobs.declaration(c.employer_id, period)
        latest = ctx.jobs.latest_document("statement", c.employer_id)
        out.append(ClientStatus(c.number, c.name, c.active, str(period), d.received_at if d else None,
                                d.reference if d else None, bool(d.late) if d else (c.active and past_due),
                                latest[0] if latest else None, c.payment_incident_at is not None))
    return out


def run(ctx: JobContext, period: Period) -> JobResult:
    from gateway.render.synthesis import render_synthesis_csv, render_synthesis_pdf

    result = JobResult("synthesis", ctx.today.isoformat())
    for sub in ctx.jobs.subscribers():
        rows = client_statuses(ctx, sub.number, period)
        if not rows:
            continue
        result.took.append(f"{sub.number}:{len(rows)}")
        stem = f"synthese-{sub.number}-{ctx.today.isoformat()}"
        for suffix, render in (
            ("csv", lambda rows=rows: render_synthesis_csv(rows)),
            ("pdf", lambda rows=rows, sub=sub: render_synthesis_pdf(sub.number, sub.name, str(period), rows, ctx.now,
                                                                   f"SY-{sub.number}-{ctx.today:%Y%m%d}")),
        ):
            ctx.deliver(result, kind=KIND, subscriber_id=sub.id, period=str(period),
                        path=ctx.layout.subscriber_doc(sub.number, "synthesis", f"{stem}.{suffix}"), render=render)
    return result
