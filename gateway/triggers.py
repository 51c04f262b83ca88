"""The job table's settings (``[jobs]``) and its triggers: the section type the configuration is made of, and
the parsing of ``cron:…`` / ``interval:N`` (the scheduler itself is ``schedule.py``, above the jobs).

Below everything that runs a job: ``config.py`` takes its ``[jobs]`` section from here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from gateway.errors import ConfigError


@dataclass(frozen=True)
class JobsSection:
    """``[jobs]``: one trigger per job ("" disables it), and how late runs are handled."""

    intake: str = "interval:60"
    prefill: str = "cron:0 6 * * *"
    reminders: str = "cron:0 8 * * *"
    statements: str = "cron:0 7 * * *"
    mandates: str = "cron:30 6 * * *"
    workforce: str = "cron:15 6 * * *"
    synthesis: str = "cron:0 5 * * *"
    retention: str = "cron:0 3 * * 0"
    mail: str = "interval:300"  # retries of e-mails that could not be sent
    reminder_days_before: int = 3
    misfire_grace_seconds: int = 3600
    coalesce: bool = True


def jobs_section(config: object) -> JobsSection:
    """The ``[jobs]`` section of ``config`` (defaults until the lead adds it to Config)."""
    section = getattr(config, "jobs", None)
    return section if isinstance(section, JobsSection) else JobsSection()


TRIGGER_FIELDS = [f.name for f in fields(JobsSection) if f.type in ("str", str)]


def parse_trigger(text: str, tz: Any) -> Any:
    """``cron:…`` or ``interval:N`` → an APScheduler trigger; ConfigError otherwise (None for "")."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    kind, _, spec = text.partition(":")
    try:
        if not text:
            return None
        if kind == "cron":
            return CronTrigger.from_crontab(spec.strip(), timezone=tz)
        if kind == "interval":
            seconds = int(spec)
            if seconds < 1:
                raise ValueError("intervalle nul")
            return IntervalTrigger(seconds=seconds, timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"déclencheur invalide « {text} »: {exc}", key="jobs") from None
    raise ConfigError(f"déclencheur invalide « {text} » (attendu cron:… ou interval:N)", key="jobs")
