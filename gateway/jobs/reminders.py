"""Reminders: in the days before the due day of M+1 (``jobs.reminder_days_before``), one e-mail per
subscriber listing its active clients whose declaration for M is still missing. Once per period."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult, due_date
from gateway.render.text import fr_date, fr_period


def run(ctx: JobContext, period: Period) -> JobResult:
    from gateway.triggers import jobs_section

    result = JobResult("reminders", str(period))
    due = due_date(ctx.config, period)
    start = due - timedelta(days=jobs_section(ctx.config).reminder_days_before)
    if not (start <= ctx.today < due):
        result.notes.append(f"rappels de {period} envoyés du {start.isoformat()} à la veille du {due.isoformat()}")
        return result
    missing: dict[int, list[str]] = defaultdict(list)
    for c in ctx.jobs.clients(period.last_day, active_only=True):
        result.took.append(c.number)
        if ctx.jobs.declaration(c.employer_id, period) is None:
            missing[c.subscriber_id].append(f"{c.number} — {c.name}")
    for sub in ctx.jobs.subscribers():
        if sub.id in missing:
            body = (f"Bonjour,\n\nLa déclaration de salaires de {fr_period(str(period))} est attendue au plus tard "
                    f"le {fr_date(due)}. Nous n'avons encore rien reçu pour :\n\n"
                    + "\n".join(f"  - {n}" for n in missing[sub.id])
                    + "\n\nUne déclaration reçue après cette date est acceptée mais signalée en retard.")
            ctx.mail(result, key=f"reminder:{period}:{sub.number}", subscriber_id=sub.id, recipient=sub.email,
                     subject=f"Rappel : déclarations de {fr_period(str(period))} à déposer avant le {fr_date(due)}",
                     body=body)
    return result
