"""Retention: the outbox keeps 24 months of history; older documents leave it (file removed,
``documents.removed_at`` set) and stay in the database. ``--dry-run`` lists them only."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

from gateway.domain import Period
from gateway.jobs.base import JobContext, JobResult

MONTHS = 24


def cutoff(now: datetime) -> datetime:
    """The same day and time 24 months earlier (the 28th at most, so every month has it)."""
    return now.replace(year=now.year - MONTHS // 12, day=min(now.day, 28))


def run(ctx: JobContext, period: Period) -> JobResult:
    result = JobResult("retention", ctx.today.isoformat())
    limit = cutoff(ctx.now)
    result.notes.append(f"documents créés avant le {limit.isoformat()}")
    for doc_id, path in ctx.jobs.documents_before(limit):
        result.took.append(path)
        if ctx.dry_run:
            result.planned.append(path)
            continue
        target = ctx.layout.absolute(PurePosixPath(path))
        target.unlink(missing_ok=True)
        ctx.jobs.mark_removed(doc_id, ctx.now)
        result.produced.append(f"removed:{path}")
    return result
