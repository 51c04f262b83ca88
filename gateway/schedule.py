"""The APScheduler 3 scheduler built from the job table (``[jobs]`` in config, its types in ``triggers.py``).

Triggers are written ``cron:<minute> <hour> <day> <month> <day of week>`` or ``interval:<seconds>``, in the
gateway's time zone (Europe/Monaco). Monthly jobs run daily and decide themselves whether their date has
come (so a missed day is caught up the next day and a re-run produces nothing new). Jobs run with
coalescing and a misfire grace time, so a late run is made once instead of being skipped silently.

On PostgreSQL each job runs once across instances: the run holds ``pg_try_advisory_lock`` on a dedicated
connection for its whole length; an instance that does not get the lock skips that run. A lost connection
releases the lock server-side, and the run's end (which tries to unlock) never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.log import get_logger
from gateway.triggers import jobs_section, parse_trigger

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.store.repo import Store

log = get_logger(__name__)


def job_names() -> list[str]:
    """Every scheduled entry: the intake, the mail queue and the monthly/daily jobs."""
    from gateway.jobs import job_names as monthly

    return ["intake", "mail", *monthly()]


def run_once_across(config: Config, store: Store, name: str, func: Callable[[], object]) -> bool:
    """Run ``func`` unless another instance runs job ``name`` now (PostgreSQL); True when it ran."""
    from gateway.store.advisory import AdvisoryLock

    if config.is_sqlite:
        func()  # one instance per SQLite file (the daemon's single-instance lock)
        return True
    with AdvisoryLock(store, name) as got:
        if not got:
            log.info("job.skipped_other_instance", job=name)
            return False
        func()
        return True


def build_scheduler(config: Config, store: Store, runner: Callable[[str], object]) -> Any:
    """A BackgroundScheduler (not started) with one APScheduler job per trigger of ``[jobs]``.

    ``runner(name)`` does the work of one run (the daemon passes its intake for "intake" and
    :func:`gateway.jobs.run_job` for the others); here it is wrapped so that a run happens once across
    instances and never raises into the scheduler.
    """
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    section = jobs_section(config)
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()}, timezone=config.tz,
        job_defaults={"coalesce": section.coalesce, "misfire_grace_time": section.misfire_grace_seconds,
                      "max_instances": 1})
    for name in job_names():
        trigger = parse_trigger(getattr(section, name), config.tz)
        if trigger is None:
            continue

        def fire(name: str = name) -> None:
            try:
                run_once_across(config, store, name, lambda: runner(name))
            except Exception:  # logged; the scheduler keeps its other jobs
                log.exception("job.crashed", job=name)

        scheduler.add_job(fire, trigger, id=name, name=name, replace_existing=True)
    return scheduler


def default_runner(config: Config, store: Store) -> Callable[[str], object]:
    """The runner of everything but the intake (which the daemon provides): jobs and the mail queue."""
    from gateway import notify
    from gateway.clock import system_clock
    from gateway.jobs import run_job

    def run(name: str) -> object:
        if name == "mail":
            return notify.send_pending(config, store, system_clock(config.tz).now())
        if name == "intake":
            from gateway.pipeline import Pipeline

            return Pipeline(config, store).run_once()
        return run_job(config, store, name)

    return run
