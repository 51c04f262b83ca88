"""Retention: the outbox keeps 24 months of history; older documents leave it (file removed,
``documents.removed_at`` set) and stay in the database. Temporary files of writes cut short by a crash
(``.tmp-*``, hidden from SFTP clients) are removed after a day. ``--dry-run`` lists them only."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path, PurePosixPath

from gateway.domain import Period
from gateway.files import TMP_PREFIX
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
    # a temporary file's age is the machine's: the gateway's clock may be set (GATEWAY_FAKE_NOW, a catch-up)
    stale = time.time() - 86400
    for folder, _dirs, names in os.walk(ctx.layout.root):
        for name in names:
            if not name.startswith(TMP_PREFIX):
                continue
            temp = Path(folder) / name
            try:
                if temp.lstat().st_mtime >= stale:
                    continue  # perhaps a write in progress
            except FileNotFoundError:
                continue
            rel = temp.relative_to(ctx.layout.root).as_posix()
            result.took.append(rel)
            if ctx.dry_run:
                result.planned.append(rel)
            else:
                temp.unlink(missing_ok=True)
                result.produced.append(f"removed:{rel}")
    return result
