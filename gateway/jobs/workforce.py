"""Workforce (effectif): for each active employer and the period, a CSV and a PDF, once."""

from __future__ import annotations

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult
from gateway.store.jobs import Client

KIND = "workforce"


def produce(ctx: JobContext, result: JobResult, c: Client, period: Period) -> None:
    from gateway.render.workforce import render_workforce_csv, render_workforce_pdf

    p = str(period)
    rows = ctx.jobs.workforce(c.employer_id, period)
    result.took.append(f"{c.number}:{len(rows)}")
    stem = f"effectif-{c.number}-{p}"
    for suffix, render in (("csv", lambda: render_workforce_csv(c.number, p, rows)),
                           ("pdf", lambda: render_workforce_pdf(c.number, c.name, p, rows, f"EF-{c.number}-{p}"))):
        ctx.deliver(result, kind=KIND, subscriber_id=c.subscriber_id, employer_id=c.employer_id, period=p,
                    path=ctx.layout.employer_doc(c.subscriber, c.number, "workforce", f"{stem}.{suffix}", p),
                    render=render)


def run(ctx: JobContext, period: Period) -> JobResult:
    result = JobResult("workforce", str(period))
    for c in ctx.jobs.clients(period.first_day if ctx.today > period.last_day else ctx.today, active_only=True):
        produce(ctx, result, c, period)
    return result
