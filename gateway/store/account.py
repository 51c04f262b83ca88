"""The employer's account in the database: entries written once, read back as :class:`Entry` values; the
statements issued (one row per version); the pain.008 batches and their collections; the bank reports.

What is owed is never stored as a total: it is always the sum of the entries (:mod:`gateway.rules.account`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select, update

from gateway.domain import FundTotal, Share
from gateway.errors import NotFound
from gateway.rules.account import COLLECTION, RETURN, Entry, ShareLine, charge_entry
from gateway.rules.contributions import Amount
from gateway.store.models import (
    AccountEntry,
    AccountEntryLine,
    Employer,
    SepaBatch,
    SepaCollection,
    SepaReport,
    Statement,
)
from gateway.store.repo import Store

_ENTRY, _LINE = AccountEntry.__table__, AccountEntryLine.__table__


def _insert_entry(conn: Connection, employer_id: int, entry: Entry, *, declaration_id: int | None = None,
                  collection_id: int | None = None) -> int:
    entry_id = int(conn.execute(_ENTRY.insert().values(
        employer_id=employer_id, period=entry.period, kind=entry.kind, amount=entry.amount, source=entry.source,
        declaration_id=declaration_id, collection_id=collection_id, note=entry.note or None,
        created_at=entry.at)).inserted_primary_key[0])
    if entry.lines:
        conn.execute(_LINE.insert(), [{"entry_id": entry_id, "fund": x.fund, "share": x.share.value, "base": x.base,
                                       "rate": x.rate, "amount": x.amount} for x in entry.lines])
    return entry_id


def read_entries(conn: Connection, employer_id: int, period: str | None = None) -> list[Entry]:
    """The employer's entries in the order they were written (one period's, or all)."""
    q = select(_ENTRY).where(_ENTRY.c.employer_id == employer_id).order_by(_ENTRY.c.id)
    if period is not None:
        q = q.where(_ENTRY.c.period == period)
    rows = conn.execute(q).all()
    by_entry: dict[int, list[ShareLine]] = {r.id: [] for r in rows}
    if rows:
        for x in conn.execute(select(_LINE).where(_LINE.c.entry_id.in_(list(by_entry))).order_by(_LINE.c.id)):
            by_entry[x.entry_id].append(ShareLine(x.fund, Share(x.share), x.base, x.rate, x.amount))
    return [Entry(r.kind, r.period, r.amount, r.source, r.created_at, tuple(by_entry[r.id]), r.note or "", r.id)
            for r in rows]


def record_charge(conn: Connection, d: Any, declaration_id: int, contributions: Iterable[Amount],
                  at: datetime, totals: Sequence[FundTotal] | None = None) -> Entry:
    """The entry of a declaration just computed, in the transaction that stores its contributions (so no
    computed declaration is ever missing from the account, and none is in it twice: one entry per
    declaration, a unique key). ``d``: the declaration's employer_id, period, kind, reference and reason."""
    # only a rectifying declaration needs what was owed before it (its entry is the difference)
    earlier = read_entries(conn, d.employer_id, d.period) if d.kind == "rectifying" else []
    entry = charge_entry(declaration_kind=d.kind, period=d.period, source=d.reference, at=at,
                         contributions=contributions, earlier=earlier, note=d.reason or "", totals=totals)
    _insert_entry(conn, d.employer_id, entry, declaration_id=declaration_id)
    return entry


@dataclass(frozen=True)
class Debtor:
    """An employer on direct debit, as a collection needs it."""

    employer_id: int
    number: str
    name: str
    address: str
    iban: str
    bic: str
    mandate_reference: str
    mandate_signed_on: date
    incident_at: datetime | None


@dataclass(frozen=True)
class StatementRow:
    version: int
    reference: str
    fingerprint: str
    balance: Decimal
    debit_on: date | None
    path: str
    issued_at: datetime


@dataclass(frozen=True)
class BatchRow:
    id: int
    message_id: str
    period: str
    collection_date: date
    payments: int
    total: Decimal
    xml: bytes
    created_at: datetime


@dataclass(frozen=True)
class CollectionRow:
    id: int
    employer_id: int
    employer: str
    period: str
    end_to_end_id: str
    amount: Decimal
    status: str
    message_id: str


class AccountStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def employer_id(self, number: str) -> int:
        with self.store.tx(read=True) as s:
            found = s.scalar(select(Employer.id).where(Employer.number == number))
        if found is None:
            raise NotFound(f"employeur {number} introuvable")
        return int(found)

    def entries(self, employer_id: int, period: str | None = None) -> list[Entry]:
        with self.store.tx(read=True) as s:
            return read_entries(s.connection(), employer_id, period)

    def periods(self, employer_id: int) -> list[str]:
        with self.store.tx(read=True) as s:
            return list(s.scalars(select(AccountEntry.period).where(AccountEntry.employer_id == employer_id)
                                  .distinct().order_by(AccountEntry.period)))

    # Direct debit ------------------------------------------------------------------------------------
    def debtors(self) -> list[Debtor]:
        """Employers on direct debit with a signed mandate, by number."""
        with self.store.tx(read=True) as s:
            rows = s.scalars(select(Employer).where(Employer.direct_debit.is_(True)).order_by(Employer.number))
            return [Debtor(e.id, e.number, e.name, e.address or "", e.iban or "", e.bic or "", e.mandate_reference,
                           e.mandate_signed_on, e.payment_incident_at) for e in rows
                    if e.iban and e.bic and e.mandate_reference and e.mandate_signed_on]

    def collections_count(self, employer_id: int, period: str) -> int:
        with self.store.tx(read=True) as s:
            return int(s.scalar(select(func.count()).select_from(SepaCollection).where(
                SepaCollection.employer_id == employer_id, SepaCollection.period == period)) or 0)

    def latest_batch(self, period: str) -> BatchRow | None:
        with self.store.tx(read=True) as s:
            b = s.scalars(select(SepaBatch).where(SepaBatch.period == period).order_by(SepaBatch.id.desc())).first()
            return None if b is None else BatchRow(b.id, b.message_id, b.period, b.collection_date, b.payments,
                                                   b.total, b.xml, b.created_at)

    def record_batch(self, *, message_id: str, period: str, collection_date: date, xml: bytes, sha256: str,
                     collections: Sequence[dict[str, Any]], at: datetime) -> None:
        """The batch, its collections and their entries in one transaction: exported means collected."""
        total = sum((c["amount"] for c in collections), Decimal("0.00"))
        with self.store.tx() as s:
            conn = s.connection()
            batch_id = conn.execute(SepaBatch.__table__.insert().values(
                message_id=message_id, period=period, collection_date=collection_date, payments=len(collections),
                total=total, sha256=sha256, xml=xml, created_at=at)).inserted_primary_key[0]
            for c in collections:
                assert sum((a for _, a in c["shares"]), Decimal("0.00")) == c["amount"], "shares add up"
                cid = conn.execute(SepaCollection.__table__.insert().values(
                    batch_id=batch_id, employer_id=c["employer_id"], period=period, end_to_end_id=c["end_to_end_id"],
                    amount=c["amount"], mandate_reference=c["mandate_reference"], status="exported"
                )).inserted_primary_key[0]
                for settled, share in c["shares"]:  # one entry per period the collection settles
                    _insert_entry(conn, c["employer_id"], Entry(COLLECTION, settled, -share, c["end_to_end_id"], at,
                                                                note=f"lot {message_id}"), collection_id=cid)

    def collection(self, end_to_end_id: str) -> CollectionRow | None:
        with self.store.tx(read=True) as s:
            r = s.execute(select(SepaCollection, Employer.number, SepaBatch.message_id)
                          .join(Employer, Employer.id == SepaCollection.employer_id)
                          .join(SepaBatch, SepaBatch.id == SepaCollection.batch_id)
                          .where(SepaCollection.end_to_end_id == end_to_end_id)).first()
            if r is None:
                return None
            c, number, msg = r
            return CollectionRow(c.id, c.employer_id, number, c.period, c.end_to_end_id, c.amount, c.status, msg)

    def batch_collections(self, message_id: str) -> list[CollectionRow]:
        """The collections of the batch ``message_id`` (empty when no such batch was exported)."""
        with self.store.tx(read=True) as s:
            return [CollectionRow(c.id, c.employer_id, number, c.period, c.end_to_end_id, c.amount, c.status, msg)
                    for c, number, msg in s.execute(
                        select(SepaCollection, Employer.number, SepaBatch.message_id)
                        .join(Employer, Employer.id == SepaCollection.employer_id)
                        .join(SepaBatch, SepaBatch.id == SepaCollection.batch_id)
                        .where(SepaBatch.message_id == message_id).order_by(SepaCollection.id))]

    def report_known(self, kind: str, message_id: str, sha256: str) -> bool:
        with self.store.tx(read=True) as s:
            return s.scalar(select(SepaReport.id).where(
                (SepaReport.sha256 == sha256) | ((SepaReport.kind == kind) & (SepaReport.message_id == message_id)))
            ) is not None

    def apply_report(self, *, kind: str, message_id: str, sha256: str, name: str, at: datetime,
                     reversals: Sequence[tuple[CollectionRow, str, str | None, str]],
                     summary: dict[str, Any]) -> None:
        """Record the report and, for each (collection, status, reason code, reason), reverse the collection,
        flag its employer (payment incident) — in one transaction. A collection already reversed is skipped
        there too (two imports at once cannot both apply it)."""
        with self.store.tx() as s:
            conn = s.connection()
            report_id = conn.execute(SepaReport.__table__.insert().values(
                kind=kind, message_id=message_id, sha256=sha256, name=name[:255], imported_at=at,
                summary=summary)).inserted_primary_key[0]
            for c, status, code, reason in reversals:
                done = conn.execute(update(SepaCollection).where(
                    SepaCollection.id == c.id, SepaCollection.status == "exported").values(
                    status=status, reason_code=code, reason=reason, returned_at=at, report_id=report_id))
                if done.rowcount != 1:
                    continue
                for settled, share in conn.execute(select(_ENTRY.c.period, _ENTRY.c.amount).where(
                        _ENTRY.c.collection_id == c.id, _ENTRY.c.kind == COLLECTION).order_by(_ENTRY.c.id)).all():
                    _insert_entry(conn, c.employer_id, Entry(RETURN, settled, -share, c.end_to_end_id, at,
                                                             note=f"{code or ''} {reason}".strip()), collection_id=c.id)
                conn.execute(update(Employer).where(Employer.id == c.employer_id,
                                                    Employer.payment_incident_at.is_(None))
                             .values(payment_incident_at=at))

    def clear_incident(self, number: str) -> datetime | None:
        """Lift the payment-incident flag; returns when it had been set (None: there was none)."""
        with self.store.tx() as s:
            e = s.scalar(select(Employer).where(Employer.number == number))
            if e is None:
                raise NotFound(f"employeur {number} introuvable")
            was, e.payment_incident_at = e.payment_incident_at, None
            return was

    # Statements --------------------------------------------------------------------------------------
    def statements(self, employer_id: int, period: str) -> list[StatementRow]:
        with self.store.tx(read=True) as s:
            return [StatementRow(r.version, r.reference, r.fingerprint, r.balance, r.debit_on, r.path, r.issued_at)
                    for r in s.scalars(select(Statement).where(Statement.employer_id == employer_id,
                                                               Statement.period == period)
                                       .order_by(Statement.version))]

    def stated_periods(self, since: str) -> list[str]:
        """Periods from ``since`` with at least one statement issued (a new version may be due)."""
        with self.store.tx(read=True) as s:
            return list(s.scalars(select(Statement.period).where(Statement.period >= since).distinct()
                                  .order_by(Statement.period)))

    def add_statement(self, *, employer_id: int, period: str, version: int, reference: str, fingerprint: str,
                      balance: Decimal, debit_on: date | None, path: str, at: datetime) -> bool:
        """Record a version; False when that version is already recorded (a second run at the same time)."""
        with self.store.tx() as s:
            if s.scalar(select(Statement.id).where(Statement.employer_id == employer_id, Statement.period == period,
                                                   Statement.version == version)) is not None:
                return False
            s.add(Statement(employer_id=employer_id, period=period, version=version, reference=reference,
                            fingerprint=fingerprint, balance=balance, debit_on=debit_on, path=path, issued_at=at))
            return True
