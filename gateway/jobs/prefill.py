"""Opening of period M (from ``declarations.period_open_day``): for every active employer, the declaration
pre-filled with its known workforce (XML and CSV) in ``<subscriber>/<employer>/prefilled/<M>/``, and one
e-mail per subscriber. Before the opening day the job does nothing (the scheduler runs it daily)."""

from __future__ import annotations

from collections import defaultdict

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult, due_date, open_date
from gateway.render.text import fr_date, fr_period

KIND = "prefilled"


def run(ctx: JobContext, period: Period) -> JobResult:
    result = JobResult("prefill", str(period))
    opens = open_date(ctx.config, period)
    if ctx.today < opens:
        result.notes.append(f"la période {period} ouvre le {opens.isoformat()}")
        return result
    jobs, p = ctx.jobs, str(period)
    made: dict[int, list[str]] = defaultdict(list)
    for c in jobs.clients(opens, active_only=True):
        workforce = jobs.workforce(c.employer_id, period)
        result.took.append(f"{c.number}:{len(workforce)}")
        stem = f"declaration-{c.number}-{p}-preremplie"
        new = False
        if workforce:
            from gateway.render.prefill_xml import render_prefill_xml

            new |= ctx.deliver(result, kind=KIND, subscriber_id=c.subscriber_id, employer_id=c.employer_id, period=p,
                               path=ctx.layout.employer_doc(c.subscriber, c.number, "prefilled", f"{stem}.xml", p),
                               render=lambda c=c, w=workforce: render_prefill_xml(c.number, p, w, ctx.now))
        else:
            result.notes.append(f"{c.number}: aucun salarié connu, CSV seul")
        from gateway.render.prefill_xml import render_prefill_csv

        new |= ctx.deliver(result, kind=KIND, subscriber_id=c.subscriber_id, employer_id=c.employer_id, period=p,
                           path=ctx.layout.employer_doc(c.subscriber, c.number, "prefilled", f"{stem}.csv", p),
                           render=lambda c=c, w=workforce: render_prefill_csv(c.number, p, w))
        if new:
            made[c.subscriber_id].append(f"{c.number} — {c.name} ({len(workforce)} salarié(s))")
    for sub in jobs.subscribers():
        if sub.id in made:
            body = (f"Bonjour,\n\nLa période de {fr_period(p)} est ouverte aux déclarations depuis le "
                    f"{fr_date(opens)}. Les déclarations pré-remplies avec l'effectif connu (XML et CSV) sont "
                    "dans votre dossier de retour, sous <employeur>/prefilled/" + p + "/, pour :\n\n"
                    + "\n".join(f"  - {n}" for n in made[sub.id])
                    + f"\n\nComplétez le salaire brut et les heures de chaque salarié, puis déposez le fichier. "
                    f"Date limite : {fr_date(due_date(ctx.config, period))}.")
            ctx.mail(result, key=f"prefill:{p}:{sub.number}", subscriber_id=sub.id, recipient=sub.email,
                     subject=f"Déclarations de {fr_period(p)} : période ouverte", body=body)
    return result
