"""The scheduled jobs and the one entry point the daemon and ``gateway jobs run`` share: :func:`run_job`.

Each run leaves a ``job_runs`` row and ``jobs/<run>/manifest.json`` (what it took, what it produced, how it
ended), then sends the e-mails it queued (a mail failure is retried later and never fails the job).
"""

from __future__ import annotations

import importlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime

from gateway.clock import system_clock
from gateway.config import Config
from gateway.domain import Period
from gateway.files import atomic_write
from gateway.jobs.base import JobContext, JobResult, closed_period, declaring_period
from gateway.log import get_logger
from gateway.store.jobs import JobsStore
from gateway.store.repo import Store

log = get_logger(__name__)


def _current(ctx: JobContext) -> Period:
    return Period.of(ctx.today)


def _previous(ctx: JobContext) -> Period:
    return Period.of(ctx.today).previous()


def _declaring(ctx: JobContext) -> Period:
    return declaring_period(ctx.config, ctx.today)


def _closed(ctx: JobContext) -> Period:
    return closed_period(ctx.config, ctx.today)


# name → (module, default period from the run's day). Intake is the daemon's, run by the pipeline.
JOBS: dict[str, tuple[str, Callable[[JobContext], Period]]] = {
    "prefill": ("gateway.jobs.prefill", _current),
    "reminders": ("gateway.jobs.reminders", _previous),
    "statements": ("gateway.jobs.statements", _closed),
    "mandates": ("gateway.jobs.mandates", _current),
    "workforce": ("gateway.jobs.workforce", _current),
    "synthesis": ("gateway.jobs.synthesis", _declaring),
    "retention": ("gateway.jobs.retention", _current),
}


def job_names() -> list[str]:
    return list(JOBS)


def run_job(config: Config, store: Store, name: str, period: Period | str | None = None,
            now: datetime | None = None, *, dry_run: bool = False, instance: str | None = None) -> JobResult:
    """Run one job now (for ``period``, else the job's own period for today) and record the run."""
    from gateway import notify
    from gateway.errors import InputError

    if name not in JOBS:
        raise InputError(f"tâche inconnue « {name} » (connues : {', '.join(JOBS)})")
    module_name, default_period = JOBS[name]
    now = (now or system_clock(config.tz).now()).astimezone(config.tz)
    run_id = f"{name}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    ctx = JobContext(config, store, now, run_id, dry_run=dry_run)
    chosen = Period.parse(period) if isinstance(period, str) else (period or default_period(ctx))
    module = importlib.import_module(module_name)
    refusal = getattr(module, "refuse", None)  # a job may refuse a period it cannot run for yet
    problem = refusal(ctx, chosen) if refusal else None
    if problem:
        raise InputError(problem)
    jobs = JobsStore(store)
    if not dry_run:
        jobs.start_run(run_id, name, str(chosen), instance or config.gateway.instance_name, now)
    status, error = "succeeded", None
    try:
        result: JobResult = module.run(ctx, chosen)
        if result.warnings:
            status = "warnings"
    except Exception as exc:  # recorded and logged, the scheduler goes on (a job is re-run safely)
        from gateway.faults import reason_of

        if reason_of(exc) is not None:  # the database or the disk, not a bug: one line, no traceback
            log.error("job.failed", job=name, run=run_id, reason=reason_of(exc), error=str(exc).splitlines()[0])
        else:
            log.exception("job.failed", job=name, run=run_id)
        result, status, error = JobResult(name, str(chosen)), "failed", f"{exc.__class__.__name__}: {exc}"
    summary = {**result.to_json(), "run": run_id, "status": status, "dry_run": dry_run,
               "started_at": now.isoformat(), "error": error}
    if not dry_run:
        report = notify.send_pending(config, store, now)
        summary["mail"] = {"sent": report.sent, "failed": report.failed}
        atomic_write(config.jobs_dir / run_id / "manifest.json",
                     json.dumps(summary, ensure_ascii=False, indent=2, default=str).encode())
        jobs.finish_run(run_id, status, summary, now)
    log.info("job.finished", job=name, run=run_id, status=status, produced=len(result.produced),
             mails=result.mails, skipped=result.skipped)
    return result
