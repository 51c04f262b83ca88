"""What every job gets (:class:`JobContext`) and returns (:class:`JobResult`), and the dates they share.

A job is a function ``run(ctx, period) -> JobResult``. It plans from the database, skips every document
whose path is already recorded (so a second run produces nothing new), writes the others atomically,
records them, and queues its e-mails with a dedup key (so a second run sends nothing twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

from gateway import outbox
from gateway.config import Config
from gateway.domain import Period
from gateway.store.jobs import JobsStore
from gateway.store.repo import Store


@dataclass
class JobResult:
    """What a run took (inputs considered), what it produced (outbox paths, e-mails), and notes."""

    job: str
    key: str | None
    took: list[str] = field(default_factory=list)
    produced: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)  # dry run: what would have been produced
    mails: int = 0
    skipped: int = 0  # documents already there
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "key": self.key, "took": self.took, "produced": self.produced,
                "planned": self.planned, "mails": self.mails, "skipped": self.skipped, "notes": self.notes,
                "warnings": self.warnings}


@dataclass
class JobContext:
    config: Config
    store: Store
    now: datetime  # aware, in the gateway's zone
    run_id: str
    dry_run: bool = False

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.tz).date()

    @property
    def jobs(self) -> JobsStore:
        return JobsStore(self.store)

    @property
    def layout(self) -> outbox.Layout:
        return outbox.Layout(self.config.outbox)

    def deliver(self, result: JobResult, *, kind: str, path: PurePosixPath, render: Any, subscriber_id: int | None,
                employer_id: int | None = None, period: str | None = None) -> bool:
        """Produce the document at ``path`` unless it is already recorded; ``render()`` gives its bytes.

        Returns True when a new document was written (or would be, on a dry run).
        """
        if self.jobs.has_document(str(path)):
            result.skipped += 1
            return False
        if self.dry_run:
            result.planned.append(str(path))
            return True
        written = outbox.write(self.layout, path, render())
        if self.jobs.add_document(kind=kind, path=written.path, sha256=written.sha256, size=written.size,
                                  subscriber_id=subscriber_id, employer_id=employer_id, period=period, now=self.now):
            result.produced.append(written.path)
            return True
        result.skipped += 1
        return False

    def mail(self, result: JobResult, *, key: str, subscriber_id: int, recipient: str | None, subject: str,
             body: str) -> None:
        from gateway import notify

        if self.dry_run:
            result.planned.append(f"mail:{key}")
            return
        if notify.queue(self.store, dedup_key=key, subscriber_id=subscriber_id, recipient=recipient,
                        subject=subject, body=body, now=self.now):
            result.mails += 1


def due_date(config: Config, period: Period) -> date:
    """The day the declaration of ``period`` is due: ``due_day`` of the next month."""
    nxt = period.next()
    return date(nxt.year, nxt.month, config.declarations.due_day)


def open_date(config: Config, period: Period) -> date:
    return date(period.year, period.month, config.declarations.period_open_day)


def debit_date(config: Config, period: Period, today: date) -> date:
    """The direct-debit date of ``period``: the first ``sepa.debit_day`` after the due date and after today
    (a statement never announces a debit in the past)."""
    after = max(due_date(config, period), today)
    p = Period.of(after)
    day = min(config.sepa.debit_day, p.days)
    candidate = date(p.year, p.month, day)
    if candidate <= after:
        p = p.next()
        candidate = date(p.year, p.month, min(config.sepa.debit_day, p.days))
    return candidate


def closed_period(config: Config, today: date) -> Period:
    """The latest period whose due date has passed (statements are made for it)."""
    previous = Period.of(today).previous()
    return previous if today > due_date(config, previous) else previous.previous()


def declaring_period(config: Config, today: date) -> Period:
    """The latest period open to declarations: this month from its opening day, else the previous one
    (on 11 December the period to show is November, late, not December, not open yet)."""
    current = Period.of(today)
    return current if today >= open_date(config, current) else current.previous()
