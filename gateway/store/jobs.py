"""Queries and writes of the scheduled jobs: clients, workforce, declarations of a period, stored
contributions for statements, job runs, the notification queue and outbox documents.

Plain methods over :meth:`Store.tx`, returning frozen values (never sessions), like ``repo.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from gateway.domain import ContributionLine, Period, RateUse, Share
from gateway.errors import InputError, NotFound, StoreError
from gateway.store.models import (
    Assignment,
    Contribution,
    Declaration,
    Document,
    Employee,
    Employer,
    Employment,
    JobRun,
    Notification,
    Subscriber,
    WorkPermit,
)
from gateway.store.repo import Store


@dataclass(frozen=True)
class SubscriberInfo:
    id: int
    number: str
    name: str
    email: str | None
    verified: bool


@dataclass(frozen=True)
class Client:
    """An employer assigned to a subscriber on a given day."""

    subscriber_id: int
    subscriber: str
    employer_id: int
    number: str
    name: str
    address: str
    active: bool
    direct_debit: bool
    mandate_reference: str | None
    iban: str | None
    bic: str | None
    mandate_signed_on: date | None
    payment_incident_at: datetime | None = None  # a collection rejected or returned, not yet cleared


@dataclass(frozen=True)
class WorkforceRow:
    registration: str
    last_name: str
    first_name: str
    birth_date: date | None
    start: date | None  # employment start, None when only a work permit is known
    end: date | None
    permit_from: date | None
    permit_to: date | None


@dataclass(frozen=True)
class DeclarationInfo:
    id: int
    reference: str
    received_at: datetime
    late: bool
    employees: int
    total_gross: Decimal


@dataclass(frozen=True)
class Pending:
    id: int
    recipient: str
    subject: str
    body: str
    attempts: int
    dedup_key: str


def _overlaps(start: Any, end: Any, first: date, last: date) -> Any:
    return and_(start <= last, or_(end.is_(None), end >= first))


class JobsStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    # Subscribers and clients --------------------------------------------------------------------
    def subscribers(self) -> list[SubscriberInfo]:
        with self.store.tx() as s:
            return [SubscriberInfo(x.id, x.number, x.name, x.email, x.email_verified_at is not None)
                    for x in s.scalars(select(Subscriber).where(Subscriber.disabled.is_(False))
                                       .order_by(Subscriber.number))]

    def subscriber_info(self, number: str) -> SubscriberInfo:
        with self.store.tx() as s:
            x = s.scalar(select(Subscriber).where(Subscriber.number == number))
            if x is None:
                raise NotFound(f"abonné {number} introuvable")
            return SubscriberInfo(x.id, x.number, x.name, x.email, x.email_verified_at is not None)

    def clients(self, on: date, subscriber: str | None = None, *, active_only: bool = False) -> list[Client]:
        """Employers assigned on ``on`` (to ``subscriber`` when given), by subscriber then employer number."""
        q = (select(Subscriber.id, Subscriber.number, Employer)
             .join(Assignment, Assignment.subscriber_id == Subscriber.id)
             .join(Employer, Employer.id == Assignment.employer_id)
             .where(Assignment.valid_from <= on, or_(Assignment.valid_to.is_(None), Assignment.valid_to >= on),
                    Subscriber.disabled.is_(False))
             .order_by(Subscriber.number, Employer.number))
        if subscriber is not None:
            q = q.where(Subscriber.number == subscriber)
        if active_only:
            q = q.where(Employer.active.is_(True))
        with self.store.tx() as s:
            return [Client(sid, snum, e.id, e.number, e.name, e.address, e.active, e.direct_debit,
                           e.mandate_reference, e.iban, e.bic, e.mandate_signed_on, e.payment_incident_at)
                    for sid, snum, e in s.execute(q)]

    def client(self, employer: str, on: date) -> Client:
        """The employer with the subscriber it is assigned to on ``on`` (the latest one otherwise)."""
        with self.store.tx() as s:
            e = s.scalar(select(Employer).where(Employer.number == employer))
            if e is None:
                raise NotFound(f"employeur {employer} introuvable")
            row = s.execute(
                select(Subscriber.id, Subscriber.number).join(Assignment, Assignment.subscriber_id == Subscriber.id)
                .where(Assignment.employer_id == e.id, Assignment.valid_from <= on)
                .order_by(Assignment.valid_from.desc()).limit(1)).first()
            if row is None:
                raise NotFound(f"l'employeur {employer} n'est confié à aucun abonné")
            return Client(row[0], row[1], e.id, e.number, e.name, e.address, e.active, e.direct_debit,
                          e.mandate_reference, e.iban, e.bic, e.mandate_signed_on, e.payment_incident_at)

    # Workforce ------------------------------------------------------------------------------------
    def workforce(self, employer_id: int, period: Period) -> list[WorkforceRow]:
        """Employees employed, or holding a work permit, with the employer at any day of the period."""
        first, last = period.first_day, period.last_day
        people: dict[int, dict[str, Any]] = {}
        with self.store.tx() as s:
            for emp, job in s.execute(
                select(Employee, Employment).join(Employment, Employment.employee_id == Employee.id)
                .where(Employment.employer_id == employer_id, _overlaps(Employment.start, Employment.end, first, last))
                .order_by(Employment.start)
            ):
                people.setdefault(emp.id, {"e": emp})["job"] = job
            for emp, permit in s.execute(
                select(Employee, WorkPermit).join(WorkPermit, WorkPermit.employee_id == Employee.id)
                .where(WorkPermit.employer_id == employer_id,
                       _overlaps(WorkPermit.valid_from, WorkPermit.valid_to, first, last))
                .order_by(WorkPermit.valid_from)
            ):
                people.setdefault(emp.id, {"e": emp})["permit"] = permit
        rows = []
        for p in people.values():
            e, job, permit = p["e"], p.get("job"), p.get("permit")
            rows.append(WorkforceRow(
                e.registration, e.last_name, e.first_name, e.birth_date,
                job.start if job else None, job.end if job else None,
                permit.valid_from if permit else None, permit.valid_to if permit else None))
        return sorted(rows, key=lambda r: (r.last_name, r.first_name, r.registration))

    # Declarations and contributions ---------------------------------------------------------------
    def declaration(self, employer_id: int, period: Period) -> DeclarationInfo | None:
        """The original declaration of the employer for the period, if any."""
        with self.store.tx() as s:
            d = s.scalar(select(Declaration).where(Declaration.employer_id == employer_id,
                                                   Declaration.period == str(period),
                                                   Declaration.kind == "original"))
            if d is None:
                return None
            return DeclarationInfo(d.id, d.reference, d.received_at, d.late, d.employees, d.total_gross)

    def contribution_lines(self, employer_id: int, period: Period) -> tuple[list[ContributionLine], list[str]]:
        """Every computed line of the period's declarations (corrections included) and their references."""
        with self.store.tx() as s:
            decls = s.execute(select(Declaration.id, Declaration.reference)
                              .where(Declaration.employer_id == employer_id, Declaration.period == str(period),
                                     Declaration.computed_at.is_not(None))
                              .order_by(Declaration.id)).all()
            ids = [i for i, _ in decls]
            rows = s.scalars(select(Contribution).where(Contribution.declaration_id.in_(ids))
                             .order_by(Contribution.id)).all() if ids else []
            lines = [ContributionLine(
                fund=c.fund, share=Share(c.share), base=c.base, rate=c.rate, amount=c.amount,
                rate_use=RateUse(c.rate_parameter, c.rate_since, c.rate, c.rate_source or ""),
                ceiling=c.ceiling) for c in rows]
            return lines, [r for _, r in decls]

    # Employers: mandates and direct debit ------------------------------------------------------------
    def issue_mandate_reference(self, employer_id: int, reference: str) -> str:
        """Store ``reference`` as the employer's mandate reference unless it already has one; returns the one kept."""
        with self.store.tx() as s:
            e = s.get_one(Employer, employer_id)
            if not e.mandate_reference:
                e.mandate_reference = reference
            return e.mandate_reference

    def set_direct_debit(self, employer: str, iban: str, bic: str, signed_on: date, reference: str) -> str:
        with self.store.tx() as s:
            e = s.scalar(select(Employer).where(Employer.number == employer))
            if e is None:
                raise NotFound(f"employeur {employer} introuvable")
            e.mandate_reference = e.mandate_reference or reference
            e.iban, e.bic, e.mandate_signed_on, e.direct_debit = iban, bic, signed_on, True
            return e.mandate_reference

    # Subscribers' e-mail ------------------------------------------------------------------------------
    def verification_state(self, number: str) -> tuple[str | None, datetime | None]:
        """(pending code, verified at) of a subscriber."""
        with self.store.tx() as s:
            row = s.execute(select(Subscriber.email_verification_code, Subscriber.email_verified_at)
                            .where(Subscriber.number == number)).first()
            if row is None:
                raise NotFound(f"abonné {number} introuvable")
            return row[0], row[1]

    def mark_verified(self, number: str, code: str, now: datetime) -> bool:
        """Verified once: the code is cleared in the same transaction, only if it is still the one checked."""
        with self.store.tx() as s:
            sub = s.scalar(select(Subscriber).where(Subscriber.number == number).with_for_update())
            if sub is None or sub.email_verification_code != code:
                return False
            sub.email_verified_at, sub.email_verification_code = now, None
            return True

    # Job runs ----------------------------------------------------------------------------------------
    def start_run(self, run_id: str, job: str, key: str | None, instance: str, now: datetime) -> None:
        with self.store.tx() as s:
            s.add(JobRun(run_id=run_id, job=job, key=key, instance=instance, started_at=now, status="running"))

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any], now: datetime) -> None:
        with self.store.tx() as s:
            run = s.scalar(select(JobRun).where(JobRun.run_id == run_id))
            if run is not None:
                run.status, run.summary, run.finished_at = status, summary, now

    def last_run(self, job: str) -> tuple[str, datetime, str, str | None] | None:
        """(run id, started at, status, key) of the job's latest run."""
        with self.store.tx() as s:
            r = s.scalar(select(JobRun).where(JobRun.job == job).order_by(JobRun.started_at.desc(), JobRun.id.desc())
                         .limit(1))
            return None if r is None else (r.run_id, r.started_at, r.status, r.key)

    # Documents ---------------------------------------------------------------------------------------
    def has_document(self, path: str) -> bool:
        with self.store.tx() as s:
            return s.scalar(select(Document.id).where(Document.path == path)) is not None

    def has_kind(self, kind: str, employer_id: int | None, period: str | None) -> bool:
        with self.store.tx() as s:
            return s.scalar(select(Document.id).where(Document.kind == kind, Document.employer_id == employer_id,
                                                      Document.period == period).limit(1)) is not None

    def add_document(self, *, kind: str, path: str, sha256: str, size: int, subscriber_id: int | None,
                     employer_id: int | None, period: str | None, now: datetime) -> bool:
        """Record a document; False when that path is already recorded (another run made it)."""
        try:
            with self.store.tx() as s:
                if s.scalar(select(Document.id).where(Document.path == path)) is not None:
                    return False
                s.add(Document(kind=kind, path=path, sha256=sha256, size=size, subscriber_id=subscriber_id,
                               employer_id=employer_id, period=period, created_at=now))
            return True
        except StoreError as exc:  # a concurrent insert of the same path: the other run made it
            if isinstance(exc.__cause__, IntegrityError):
                return False
            raise

    def latest_document(self, kind: str, employer_id: int) -> tuple[str | None, datetime] | None:
        with self.store.tx() as s:
            row = s.execute(select(Document.period, Document.created_at)
                            .where(Document.kind == kind, Document.employer_id == employer_id)
                            .order_by(Document.period.desc(), Document.id.desc()).limit(1)).first()
            return None if row is None else (row[0], row[1])

    def documents_before(self, cutoff: datetime) -> list[tuple[int, str]]:
        """(id, path) of documents still in the outbox that were created before ``cutoff``."""
        with self.store.tx() as s:
            return [(i, p) for i, p in s.execute(
                select(Document.id, Document.path).where(Document.created_at < cutoff, Document.removed_at.is_(None))
                .order_by(Document.id))]

    def mark_removed(self, doc_id: int, now: datetime) -> None:
        with self.store.tx() as s:
            s.get_one(Document, doc_id).removed_at = now

    # Notifications -------------------------------------------------------------------------------------
    def queue(self, *, dedup_key: str, subscriber_id: int | None, recipient: str, subject: str, body: str,
              now: datetime) -> bool:
        """Queue one message; False when a message with that key was queued before (a re-run)."""
        try:
            with self.store.tx() as s:
                if s.scalar(select(Notification.id).where(Notification.dedup_key == dedup_key)) is not None:
                    return False
                s.add(Notification(dedup_key=dedup_key, subscriber_id=subscriber_id, recipient=recipient,
                                   subject=subject, body=body, created_at=now, attempts=0, next_attempt_at=now))
            return True
        except StoreError as exc:  # the same key queued concurrently by another instance
            if isinstance(exc.__cause__, IntegrityError):
                return False
            raise

    def due(self, now: datetime, limit: int = 100) -> list[Pending]:
        with self.store.tx() as s:
            return [Pending(n.id, n.recipient, n.subject, n.body, n.attempts, n.dedup_key)
                    for n in s.scalars(select(Notification).where(
                        Notification.sent_at.is_(None),
                        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
                        .order_by(Notification.id).limit(limit))]

    @contextmanager
    def claim_notification(self, notification_id: int) -> Iterator[NotificationClaim | None]:
        """Hold one unsent notification while it is sent; None when this process must not send it.

        On PostgreSQL the row is locked FOR UPDATE SKIP LOCKED for the time of the send, and its outcome is
        written through the same connection (an update from another one would wait for the lock): two
        instances never send the same message. On SQLite one process works alone: a plain check suffices.
        """
        if self.store.engine.dialect.name != "postgresql":
            with self.store.tx() as s:
                unsent = s.scalar(select(Notification.id).where(Notification.id == notification_id,
                                                                Notification.sent_at.is_(None))) is not None
            yield NotificationClaim(self, notification_id, None) if unsent else None
            return
        with self.store.engine.connect() as conn, conn.begin():
            got = conn.execute(
                select(Notification.id).where(Notification.id == notification_id, Notification.sent_at.is_(None))
                .with_for_update(skip_locked=True)).scalar() is not None
            yield NotificationClaim(self, notification_id, conn) if got else None

    def mark_sent(self, notification_id: int, now: datetime) -> None:
        with self.store.tx() as s:
            n = s.get_one(Notification, notification_id)
            n.sent_at, n.attempts, n.last_error = now, n.attempts + 1, None

    def mark_failed(self, notification_id: int, error: str, retry_at: datetime) -> None:
        with self.store.tx() as s:
            n = s.get_one(Notification, notification_id)
            n.attempts, n.last_error, n.next_attempt_at = n.attempts + 1, error[:1000], retry_at

    def notifications(self) -> list[Notification]:
        with self.store.tx() as s:
            return list(s.scalars(select(Notification).order_by(Notification.id)))


class NotificationClaim:
    """The right to send one notification, and where its outcome is written."""

    def __init__(self, jobs: JobsStore, notification_id: int, conn: Connection | None) -> None:
        self.jobs, self.id, self.conn = jobs, notification_id, conn

    def sent(self, now: datetime) -> None:
        if self.conn is None:
            self.jobs.mark_sent(self.id, now)
        else:
            self.conn.execute(update(Notification).where(Notification.id == self.id).values(
                sent_at=now, attempts=Notification.attempts + 1, last_error=None))

    def failed(self, error: str, retry_at: datetime) -> None:
        if self.conn is None:
            self.jobs.mark_failed(self.id, error, retry_at)
        else:
            self.conn.execute(update(Notification).where(Notification.id == self.id).values(
                attempts=Notification.attempts + 1, last_error=error[:1000], next_attempt_at=retry_at))


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)
