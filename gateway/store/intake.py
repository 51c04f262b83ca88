"""Queries and writes of the intake: received files, their states, recorded declarations, documents.

States of a received file: received → validated → recorded → computed → delivered, or refused / failed.
Each step is one transaction; the step's side effects (files written) happen before the transaction that
records them, so a crash at any point resumes at the last recorded step.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain import ContributionResult, Declaration, EventType, Period, Share
from gateway.store.account import record_charge
from gateway.store.models import (
    Contribution,
    DeclarationEvent,
    DeclarationLine,
    Document,
    Employee,
    Employer,
    Employment,
    IntakeClaim,
    ReceivedFile,
    Subscriber,
)
from gateway.store.models import Declaration as DeclarationRow
from gateway.store.repo import Store, utcnow

TERMINAL = ("delivered", "refused", "failed")
_CHUNK = 500  # values per IN (...) list, well under every database's parameter limit
PROVISIONAL_PREFIX = "99"  # provisional registrations: 99xxxxxxx, a range the Caisses do not issue

_FILE, _SUB, _DECL, _LINE = ReceivedFile.__table__, Subscriber.__table__, DeclarationRow.__table__, DeclarationLine.__table__
_EMP, _ER, _JOB, _CLAIM = Employee.__table__, Employer.__table__, Employment.__table__, IntakeClaim.__table__
_CONTRIB, _DOC, _EVENT = Contribution.__table__, Document.__table__, DeclarationEvent.__table__


class _Q:
    """The statements run for every file, built once.

    Built per call, a statement cost more than running it (SQLAlchemy's construction, cache key and ORM
    execution path: about 85 µs against 17 µs for a statement built once and run on the session's
    connection); these run with :func:`_run` and the values as bound parameters."""

    subscriber_state = select(_SUB.c.id, _SUB.c.disabled, _SUB.c.email_verified_at) \
        .where(_SUB.c.number == bindparam("number"))
    file_columns = select(_FILE, _SUB.c.number.label("subscriber_number")).join(_SUB, _SUB.c.id == _FILE.c.subscriber_id)
    file = file_columns.where(_FILE.c.id == bindparam("file_id"))
    set_state = update(_FILE).where(_FILE.c.id == bindparam("_file_id"))  # SET: the columns given
    take = update(_FILE).where(_FILE.c.id == bindparam("_file_id"), _FILE.c.state == bindparam("_state"))
    drop_claim = delete(_CLAIM).where(_CLAIM.c.received_file_id == bindparam("file_id"))
    next_claim = select(_CLAIM.c.received_file_id) \
        .where(_CLAIM.c.received_file_id.not_in(bindparam("exclude", expanding=True))) \
        .order_by(_CLAIM.c.received_file_id).limit(1)
    next_claims = select(_CLAIM.c.received_file_id, _FILE.c.size) \
        .join(_FILE, _FILE.c.id == _CLAIM.c.received_file_id) \
        .where(_CLAIM.c.received_file_id.not_in(bindparam("exclude", expanding=True))) \
        .order_by(_CLAIM.c.received_file_id).limit(bindparam("limit"))
    claim_left = select(_FILE.c.state).join(_CLAIM, _CLAIM.c.received_file_id == _FILE.c.id) \
        .where(_FILE.c.id == bindparam("file_id"))
    declaration_by_reference = select(_DECL.c.id).where(_DECL.c.reference == bindparam("reference"))
    employer_id = select(_ER.c.id).where(_ER.c.number == bindparam("number"))
    employer_info = select(_ER.c.id, _ER.c.number, _ER.c.name, _ER.c.address, _ER.c.building_trade,
                           _ER.c.household).where(_ER.c.number == bindparam("number"))
    insert_file, insert_claim = insert(_FILE), insert(_CLAIM)
    insert_declaration, insert_lines, insert_events = insert(_DECL), insert(_LINE), insert(_EVENT)
    insert_employments, insert_contributions, insert_documents = insert(_JOB), insert(_CONTRIB), insert(_DOC)
    line_ids = select(_LINE.c.position, _LINE.c.id).where(_LINE.c.declaration_id == bindparam("declaration_id"))
    employee_ids = select(_EMP.c.registration, _EMP.c.id) \
        .where(_EMP.c.registration.in_(bindparam("registrations", expanding=True)))
    current_jobs = select(_JOB.c.id, _JOB.c.employee_id, _JOB.c.start, _JOB.c.end).where(
        _JOB.c.employer_id == bindparam("employer_id"), _JOB.c.employee_id.in_(bindparam("ids", expanding=True)),
        _JOB.c.start <= bindparam("last_day"), or_(_JOB.c.end.is_(None), _JOB.c.end >= bindparam("first_day")),
    ).order_by(_JOB.c.start.desc(), _JOB.c.id)
    computed_at = select(_DECL.c.computed_at, _DECL.c.employer_id, _DECL.c.period, _DECL.c.kind, _DECL.c.reference,
                         _DECL.c.reason).where(_DECL.c.id == bindparam("declaration_id"))
    set_computed = update(_DECL).where(_DECL.c.id == bindparam("declaration_id")) \
        .values(computed_at=bindparam("computed_at"))
    declarations_of = select(_DECL).where(_DECL.c.received_file_id == bindparam("file_id")) \
        .order_by(_DECL.c.position)
    contribution_amounts = select(_CONTRIB.c.fund, _CONTRIB.c.share, _CONTRIB.c.base, _CONTRIB.c.rate,
                                  _CONTRIB.c.amount) \
        .where(_CONTRIB.c.declaration_id == bindparam("declaration_id")).order_by(_CONTRIB.c.id)
    line_people = select(_LINE.c.position, _EMP.c.registration, _EMP.c.last_name, _EMP.c.first_name) \
        .join(_EMP, _EMP.c.id == _LINE.c.employee_id).where(_LINE.c.declaration_id == bindparam("declaration_id"))
    known_documents = select(_DOC.c.path).where(_DOC.c.path.in_(bindparam("paths", expanding=True)))
    payslip_employee = select(_EMP.c.id, _EMP.c.last_name, _EMP.c.first_name) \
        .where(_EMP.c.registration == bindparam("registration"))
    payslip_jobs = select(_JOB.c.start, _JOB.c.end).where(
        _JOB.c.employer_id == bindparam("employer_id"), _JOB.c.employee_id == bindparam("employee_id"),
        _JOB.c.start <= bindparam("last_day"), or_(_JOB.c.end.is_(None), _JOB.c.end >= bindparam("first_day")))
    payslip_cover = select(_LINE.c.unemployment_insurance).join(_DECL, _DECL.c.id == _LINE.c.declaration_id) \
        .where(_LINE.c.employee_id == bindparam("employee_id"), _DECL.c.employer_id == bindparam("employer_id")) \
        .order_by(_DECL.c.period.desc()).limit(1)


def _run(s: Session, statement: Any, params: Any = None) -> Any:
    """A statement of :class:`_Q` on the transaction's connection (Core: no ORM execution path); its
    ``CursorResult`` (typed ``Any``: its rows' shape is the statement's, which the type cannot say)."""
    return s.connection().execute(statement, params)


class Duplicate(Exception):
    """The same bytes from the same subscriber were received before (``reference`` of that upload)."""

    def __init__(self, file_id: int, reference: str) -> None:
        super().__init__(reference)
        self.file_id = file_id
        self.reference = reference


@dataclass(frozen=True)
class FileRow:
    id: int
    reference: str
    subscriber: str
    subscriber_id: int
    original_name: str
    size: int
    sha256: str
    kind: str | None
    test: bool
    state: str
    outcome: str | None
    stored_path: str
    findings: dict[str, Any] | None
    received_at: datetime
    processed_at: datetime | None
    error: str | None = None  # why the file was set aside (``failed``, or held at its state)


class StoredAmount(NamedTuple):
    """A stored contribution row as a fund's total sums it (see ``rules.contributions.fund_totals``)."""

    fund: str
    share: Share
    base: Decimal
    rate: Decimal
    amount: Decimal


_SHARES = {s.value: s for s in Share}


@dataclass(frozen=True)
class PayslipPerson:
    name: str
    span: tuple[date, date] | None  # days employed in the period, None for the whole month
    unemployment_insurance: bool


def new_reference(now: datetime, subscriber: str, sha256: str, salt: str = "") -> str:
    """The gateway's reference of an upload: ``GW-<date>-<10 characters>``.

    Derived from the subscriber and the bytes' hash (unique together), so that a file processed again
    after a crash gets the same reference and the same documents; ``salt`` only after a collision.
    """
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    digest = hashlib.sha256(f"{subscriber}:{sha256}:{salt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(10):
        number, r = divmod(number, 32)
        chars.append(alphabet[r])
    return f"GW-{now:%Y%m%d}-" + "".join(chars)


class IntakeStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.postgres = store.engine.dialect.name == "postgresql"

    # Receiving ---------------------------------------------------------------------------------
    def subscriber_state(self, number: str) -> tuple[int, bool, bool] | None:
        """(id, disabled, e-mail verified) of a subscriber, None when unknown."""
        with self.store.tx(read=True) as s:
            row = _run(s, _Q.subscriber_state, {"number": number}).first()
            return None if row is None else (row[0], row[1], row[2] is not None)

    def insert_received(self, *, subscriber_id: int, subscriber: str, name: str, size: int, sha256: str,
                        stored_path: str, run_id: str, received_at: datetime) -> tuple[int, str]:
        """A new row in state ``received``; raises Duplicate when these bytes were received before."""
        for attempt in range(3):
            reference = new_reference(received_at, subscriber, sha256, salt=secrets.token_hex(4) if attempt else "")
            try:
                with self.store.tx(savepoint=True) as s:  # a caller's unit goes on after a duplicate
                    file_id = _run(s, _Q.insert_file, {
                        "reference": reference, "subscriber_id": subscriber_id, "original_name": name[:255], "size": size,
                        "sha256": sha256, "state": "received", "stored_path": stored_path, "run_id": run_id,
                        "received_at": received_at, "updated_at": utcnow(), "test": False, "total_findings": 0,
                    }).inserted_primary_key[0]
                    _run(s, _Q.insert_claim, {"received_file_id": file_id})
                    return int(file_id), reference
            except Exception as exc:  # StoreError wrapping IntegrityError
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
                with self.store.tx() as s:
                    earlier = s.execute(select(ReceivedFile.id, ReceivedFile.reference).where(
                        ReceivedFile.subscriber_id == subscriber_id, ReceivedFile.sha256 == sha256)).first()
                if earlier is not None:
                    raise Duplicate(earlier[0], earlier[1]) from None
                # else: a reference collision (vanishingly rare): draw another
        raise RuntimeError("could not draw a unique reference")

    def known_paths(self) -> set[str]:
        with self.store.tx(read=True) as s:
            return set(s.scalars(select(ReceivedFile.stored_path)))

    # Claiming work -----------------------------------------------------------------------------
    @contextmanager
    def claim_next(self, exclude: Collection[int] = ()) -> Iterator[int | None]:
        """The next file to work on (not one of ``exclude``, taken by this process's other threads), held until
        the block ends.

        On PostgreSQL the claim row is locked FOR UPDATE SKIP LOCKED on a connection of its own, kept open
        while the file is processed (in other transactions): several processes never take the same file,
        and a process that dies releases its claim with its connection. On SQLite one process works alone
        (the single-instance lock), so a plain query suffices.
        """
        if not self.postgres:
            with self.store.tx(read=True) as s:
                file_id = _run(s, _Q.next_claim, {"exclude": list(exclude)}).scalar()
            yield file_id
            if file_id is not None:
                # usually dropped already, with the file's final state (``finish``): then nothing to write
                with self.store.tx(read=True) as s:
                    left = _run(s, _Q.claim_left, {"file_id": file_id}).scalar()
                if left in TERMINAL:
                    with self.store.tx() as s:
                        _run(s, _Q.drop_claim, {"file_id": file_id})
            return
        with self.store.engine.connect() as conn, conn.begin():
            file_id = conn.execute(
                select(IntakeClaim.received_file_id)
                .where(IntakeClaim.received_file_id.not_in(list(exclude)))
                .order_by(IntakeClaim.received_file_id).limit(1).with_for_update(skip_locked=True)
            ).scalar()
            yield file_id
            if file_id is not None:
                left = conn.execute(select(ReceivedFile.state, ReceivedFile.error)
                                    .where(ReceivedFile.id == file_id)).first()
                if left is not None and (left[0] in TERMINAL or left[1] is not None):
                    conn.execute(delete(IntakeClaim).where(IntakeClaim.received_file_id == file_id))

    @contextmanager
    def claim_batch(self, exclude: Collection[int] = (), limit: int = 1, max_bytes: int = 0) -> Iterator[list[int]]:
        """Up to ``limit`` files to work on in one go (one worker task), together at most ``max_bytes`` long
        (the first always: a big file goes alone), held until the block ends — as :meth:`claim_next`, for a
        few files at once."""
        def chosen(rows: Any) -> list[int]:
            ids, total = [], 0
            for file_id, size in rows:
                if ids and max_bytes and total + size > max_bytes:
                    break
                ids.append(file_id)
                total += size
            return ids

        if not self.postgres:
            with self.store.tx(read=True) as s:
                ids = chosen(_run(s, _Q.next_claims, {"exclude": list(exclude), "limit": limit}).all())
            yield ids
            if ids:
                with self.store.tx(read=True) as s:
                    left = [i for i in ids if _run(s, _Q.claim_left, {"file_id": i}).scalar() in TERMINAL]
                if left:
                    with self.store.tx() as s:
                        _run(s, _Q.drop_claim, [{"file_id": i} for i in left])
            return
        with self.store.engine.connect() as conn, conn.begin():
            rows = conn.execute(
                select(IntakeClaim.received_file_id, ReceivedFile.size)
                .join(ReceivedFile, ReceivedFile.id == IntakeClaim.received_file_id)
                .where(IntakeClaim.received_file_id.not_in(list(exclude)))
                .order_by(IntakeClaim.received_file_id).limit(limit)
                .with_for_update(of=IntakeClaim, skip_locked=True)
            ).all()
            ids = chosen(rows)
            yield ids
            if ids:
                done = [i for i, state, error in conn.execute(
                    select(ReceivedFile.id, ReceivedFile.state, ReceivedFile.error)
                    .where(ReceivedFile.id.in_(ids))) if state in TERMINAL or error is not None]
                if done:
                    conn.execute(delete(IntakeClaim).where(IntakeClaim.received_file_id.in_(done)))

    def finish(self, file_id: int, state: str, **values: Any) -> None:
        """The file's final state; on SQLite its claim is dropped in the same transaction (on PostgreSQL the
        claiming connection holds the claim's row and drops it when the file is done)."""
        self.set_state(file_id, state, **values)
        if not self.postgres:
            with self.store.tx() as s:
                _run(s, _Q.drop_claim, {"file_id": file_id})

    def take(self, file_id: int, state: str) -> bool:
        """The first statement of a write transaction on a file: True when the file is still at ``state``
        (its row is then locked until the commit), False when another process has moved it on meanwhile
        (on PostgreSQL a claim whose connection was cut can be taken again by another instance)."""
        with self.store.tx() as s:
            done = _run(s, _Q.take, {"_file_id": file_id, "_state": state, "updated_at": utcnow()})
            return bool(done.rowcount == 1)

    def hold(self, file_id: int, error: str) -> None:
        """Set a file aside at its state, records kept (its documents could not be made): no longer taken
        by the intake until an operator retries it (``gateway failed retry``)."""
        with self.store.tx() as s:
            _run(s, _Q.set_state, {"error": error[:2000], "updated_at": utcnow(), "_file_id": file_id})
            if not self.postgres:  # on PostgreSQL the claiming connection drops the claim (it holds its row)
                _run(s, _Q.drop_claim, {"file_id": file_id})

    def set_aside(self) -> list[FileRow]:
        """The files the intake no longer takes: parked as ``failed`` (nothing recorded) or held at their
        state with their records (documents not made), oldest first; each row's ``error`` says why."""
        with self.store.tx(read=True) as s:
            rows = s.execute(_Q.file_columns.where(
                or_(_FILE.c.state == "failed", and_(_FILE.c.state.not_in(TERMINAL), _FILE.c.error.is_not(None))))
                .order_by(_FILE.c.id)).all()
            return [_file_row(r, r.subscriber_number) for r in rows]

    def requeue(self, file_id: int) -> str:
        """Give a set-aside file back to the intake: a ``failed`` one is judged afresh from ``received`` (it
        recorded nothing), a held one resumes at its state. Returns the state it resumes at."""
        with self.store.tx() as s:
            state = s.execute(select(_FILE.c.state).where(_FILE.c.id == file_id)).scalar()
            if state is None:
                raise LookupError(f"received file {file_id} not found")
            values: dict[str, Any] = {"error": None, "updated_at": utcnow()}
            if state == "failed":
                state = "received"
                values.update(state=state, outcome=None, findings=None, total_findings=0, processed_at=None)
            s.execute(update(_FILE).where(_FILE.c.id == file_id).values(**values))
            if not s.execute(select(_CLAIM.c.received_file_id).where(_CLAIM.c.received_file_id == file_id)).first():
                _run(s, _Q.insert_claim, {"received_file_id": file_id})
            return str(state)

    def pending_count(self) -> int:
        with self.store.tx(read=True) as s:
            return s.scalar(select(func.count()).select_from(IntakeClaim)) or 0

    # Reading a file's row ----------------------------------------------------------------------
    def file(self, file_id: int) -> FileRow:
        with self.store.tx(read=True) as s:  # a plain row, no ORM object: read after every step of every file
            r = _run(s, _Q.file, {"file_id": file_id}).one()
            return _file_row(r, r.subscriber_number)

    def find_file(self, reference_or_name: str) -> list[FileRow]:
        with self.store.tx(read=True) as s:
            rows = s.execute(
                select(ReceivedFile, Subscriber.number).join(Subscriber, Subscriber.id == ReceivedFile.subscriber_id)
                .where(or_(ReceivedFile.reference == reference_or_name,
                           ReceivedFile.original_name == reference_or_name,
                           ReceivedFile.sha256 == reference_or_name.lower()))
                .order_by(ReceivedFile.received_at)
            ).all()
            return [_file_row(r, n) for r, n in rows]

    # Steps ---------------------------------------------------------------------------------------
    def set_state(self, file_id: int, state: str, **values: Any) -> None:
        with self.store.tx() as s:  # one Core UPDATE (the ORM's bulk-update path cost more than the write)
            done = _run(s, _Q.set_state, {**values, "state": state, "updated_at": utcnow(), "_file_id": file_id})
            if done.rowcount != 1:
                raise LookupError(f"received file {file_id} not found")

    def record_declaration(self, *, file_id: int | None, reference: str, decl: Declaration, late: bool,
                           received_at: datetime, recorded_at: datetime, kind: str = "original",
                           corrects_id: int | None = None, reason: str | None = None,
                           employer_id: int | None = None) -> int | None:
        """Record one accepted declaration in its own transaction; idempotent on ``reference``.

        Returns the declaration's id, or None when the employer and period were declared meanwhile
        (the caller turns that into a refusal).
        """
        try:
            with self.store.tx(savepoint=True) as s:  # a caller's unit goes on after a refusal here
                existing = _run(s, _Q.declaration_by_reference, {"reference": reference}).scalar()
                if existing is not None:
                    return existing
                if employer_id is None:
                    employer_id = _run(s, _Q.employer_id, {"number": decl.employer}).scalar()
                assert employer_id is not None, "checked by the rules"
                declaration_id = _run(s, _Q.insert_declaration, {
                    "reference": reference, "received_file_id": file_id, "employer_id": employer_id, "period": str(decl.period),
                    "kind": kind, "corrects_id": corrects_id, "reason": reason, "position": decl.index, "late": late,
                    "employees": len(decl.lines),
                    "total_gross": decl.total_gross, "total_hours": decl.total_hours, "received_at": received_at,
                    "recorded_at": recorded_at,
                }).inserted_primary_key[0]
                self._add_lines(s, declaration_id, employer_id, decl, recorded_at)
                return int(declaration_id)
        except Exception as exc:
            if isinstance(exc.__cause__, IntegrityError):
                return None
            raise

    def _add_lines(self, s: Session, declaration_id: int, employer_id: int, decl: Declaration, now: datetime) -> None:
        """The declaration's lines, their events and the employments they imply, in a few executemany
        statements: one INSERT per line was most of the recording time of a large declaration."""
        registered = self._employee_ids(s, [line.registration for line in decl.lines if line.registration])
        employee_ids = []
        for line in decl.lines:
            if line.registration:
                employee_id = registered.get(line.registration)
                assert employee_id is not None, "checked by the rules"
            else:  # a new employee: rare, one at a time (provisional numbers are drawn in order)
                employee_id = self._employee_for(s, line, now).id
            employee_ids.append(employee_id)
        _run(s, _Q.insert_lines, [
            {"declaration_id": declaration_id, "employee_id": employee_id, "position": position, "gross": line.gross,
             "hours": line.hours, "director": line.director, "unemployment_insurance": line.unemployment_insurance}
            for position, (line, employee_id) in enumerate(zip(decl.lines, employee_ids), start=1)])
        if any(line.events for line in decl.lines):
            line_ids = dict(_run(s, _Q.line_ids, {"declaration_id": declaration_id}).all())
            _run(s, _Q.insert_events, [
                {"line_id": line_ids[position], "type": ev.type.value, "start": ev.start, "end": ev.end,
                 "hours": ev.hours}
                for position, line in enumerate(decl.lines, start=1) for ev in line.events])
        self._update_employments(s, employer_id, list(zip(employee_ids, (line.events for line in decl.lines))),
                                 decl.period)

    def _employee_ids(self, s: Session, registrations: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in range(0, len(registrations), _CHUNK):
            found.update(_run(s, _Q.employee_ids, {"registrations": registrations[i:i + _CHUNK]}).all())
        return found

    def _employee_for(self, s: Session, line: Any, now: datetime) -> Employee:
        if line.registration:
            employee = s.scalar(select(Employee).where(Employee.registration == line.registration))
            assert employee is not None, "checked by the rules"
            return employee
        # A new employee: the same person declared again without a number gets the same provisional one.
        same = s.scalar(select(Employee).where(
            Employee.provisional.is_(True), func.lower(Employee.last_name) == line.last_name.lower(),
            func.lower(Employee.first_name) == line.first_name.lower(), Employee.birth_date == line.birth_date,
        ).limit(1))
        if same is not None:
            return same
        employee = Employee(registration=self._next_provisional(s), last_name=line.last_name,
                            first_name=line.first_name, birth_date=line.birth_date, provisional=True, created_at=now)
        s.add(employee)
        s.flush()
        return employee

    def _next_provisional(self, s: Session) -> str:
        if self.postgres:
            # serialise the draw across instances for the rest of this transaction
            s.execute(text("SELECT pg_advisory_xact_lock(424242)"))
        top = s.scalar(select(func.max(Employee.registration)).where(
            Employee.registration.like(PROVISIONAL_PREFIX + "_______")))
        number = int(top) + 1 if top else int(PROVISIONAL_PREFIX + "0000001")
        return f"{number:09d}"

    def _update_employments(self, s: Session, employer_id: int, lines: list[tuple[int, Sequence[Any]]],
                            period: Period) -> None:
        """Each line's employment with this employer: opened by a hire (or by the declaration itself when the
        register does not know it), closed by a departure. The current employments of all the lines are read
        in one query and written back in two statements."""
        ids = sorted({employee_id for employee_id, _events in lines})
        current: dict[int, dict[str, Any]] = {}
        for i in range(0, len(ids), _CHUNK):
            for job in _run(s, _Q.current_jobs, {"employer_id": employer_id, "ids": ids[i:i + _CHUNK],
                                                 "last_day": period.last_day,
                                                 "first_day": period.first_day}).mappings():
                current.setdefault(job["employee_id"], dict(job))  # the latest start, as the query per line took
        new: list[dict[str, Any]] = []
        ended: dict[int, date] = {}
        for employee_id, events in lines:
            hire = next((e.start for e in events if e.type is EventType.HIRE), None)
            departure = next((e.end for e in events if e.type is EventType.DEPARTURE), None)
            job = current.get(employee_id)
            if hire is not None and (job is None or (job["end"] is not None and job["end"] < hire)):
                job = current[employee_id] = {"id": None, "employee_id": employee_id, "start": hire, "end": None}
                new.append(job)
            elif job is None:
                # declared without a hire event and unknown to the register: employed at least this month
                job = current[employee_id] = {"id": None, "employee_id": employee_id, "start": period.first_day,
                                              "end": None}
                new.append(job)
            if departure is not None:
                job["end"] = departure
                if job["id"] is not None:
                    ended[job["id"]] = departure
        if new:
            _run(s, _Q.insert_employments, [{"employer_id": employer_id, "employee_id": j["employee_id"],
                                            "start": j["start"], "end": j["end"]} for j in new])
        if ended:
            s.execute(update(Employment), [{"id": job_id, "end": end} for job_id, end in ended.items()])

    # Contributions -------------------------------------------------------------------------------
    def declarations_of(self, file_id: int) -> list[Row[Any]]:
        """The file's recorded declarations, as plain rows (their columns as attributes)."""
        with self.store.tx(read=True) as s:
            return list(_run(s, _Q.declarations_of, {"file_id": file_id}))

    def history(self, employer: str, since: str) -> list[DeclarationRow]:
        """Declarations of an employer from period ``since`` on, corrections next to their original."""
        with self.store.tx(read=True) as s:
            return list(s.scalars(
                select(DeclarationRow).join(Employer, Employer.id == DeclarationRow.employer_id)
                .where(Employer.number == employer, DeclarationRow.period >= since)
                .order_by(DeclarationRow.period.desc(), DeclarationRow.id)))

    def declaration(self, reference: str) -> tuple[DeclarationRow, str, list[tuple[Any, ...]]] | None:
        """A declaration, its employer number and its lines (position, registration, names, gross, hours, events)."""
        with self.store.tx(read=True) as s:
            row = s.scalar(select(DeclarationRow).where(DeclarationRow.reference == reference))
            if row is None:
                return None
            employer = s.scalar(select(Employer.number).where(Employer.id == row.employer_id))
            lines = []
            for line in s.scalars(select(DeclarationLine).where(DeclarationLine.declaration_id == row.id)
                                  .order_by(DeclarationLine.position)):
                person = s.get_one(Employee, line.employee_id)
                events = [(e.type, e.start, e.end) for e in line.events]
                lines.append((line.position, person.registration, person.last_name, person.first_name,
                              line.gross, line.hours, events))
            return row, employer or "", lines

    def original_of(self, employer: str, period: str) -> DeclarationRow | None:
        with self.store.tx(read=True) as s:
            return s.scalar(select(DeclarationRow).join(Employer, Employer.id == DeclarationRow.employer_id)
                            .where(Employer.number == employer, DeclarationRow.period == period,
                                   DeclarationRow.kind == "original"))

    def corrections_count(self, original_id: int) -> int:
        with self.store.tx(read=True) as s:
            return s.scalar(select(func.count()).select_from(DeclarationRow)
                            .where(DeclarationRow.corrects_id == original_id)) or 0

    def employer_info(self, number: str) -> dict[str, Any] | None:
        with self.store.tx(read=True) as s:
            e = _run(s, _Q.employer_info, {"number": number}).mappings().first()
            return None if e is None else dict(e)

    def line_people(self, declaration_id: int) -> dict[int, tuple[str, str, str]]:
        """Line position → (registration, last name, first name) as recorded."""
        with self.store.tx(read=True) as s:
            rows = _run(s, _Q.line_people, {"declaration_id": declaration_id}).all()
            return {p: (r, ln, fn) for p, r, ln, fn in rows}

    def employment_spans(self, declaration_id: int, employer_id: int, period: Period) -> dict[int, tuple[date, date]]:
        """Line position → (first, last) day employed within the period, for lines not employed all month."""
        with self.store.tx(read=True) as s:
            rows = s.execute(
                select(DeclarationLine.position, Employment.start, Employment.end)
                .join(Employment, (Employment.employee_id == DeclarationLine.employee_id)
                      & (Employment.employer_id == employer_id))
                .where(DeclarationLine.declaration_id == declaration_id, Employment.start <= period.last_day,
                       or_(Employment.end.is_(None), Employment.end >= period.first_day))
            ).all()
        spans: dict[int, tuple[date, date]] = {}
        for position, start, end in rows:
            first = max(start, period.first_day)
            last = min(end, period.last_day) if end else period.last_day
            if (first, last) != (period.first_day, period.last_day):
                spans[position] = (first, last)
        return spans

    def employee_for_payslip(self, employer: str, registration: str, period: Period,
                             employer_id: int | None = None) -> PayslipPerson | None:
        """Name, days employed in the period and unemployment cover (from the latest declaration line)."""
        with self.store.tx(read=True) as s:
            row = _run(s, _Q.payslip_employee, {"registration": registration}).first()
            if employer_id is None:
                employer_id = _run(s, _Q.employer_id, {"number": employer}).scalar()
            if row is None or employer_id is None:
                return None
            jobs = _run(s, _Q.payslip_jobs, {"employer_id": employer_id, "employee_id": row[0],
                                             "last_day": period.last_day, "first_day": period.first_day}).all()
            covered = _run(s, _Q.payslip_cover, {"employee_id": row[0], "employer_id": employer_id}).scalar()
        span = None
        if jobs:
            first = max(min(j[0] for j in jobs), period.first_day)
            last = period.last_day if any(j[1] is None for j in jobs) else min(max(j[1] for j in jobs), period.last_day)
            if (first, last) != (period.first_day, period.last_day):
                span = (first, last)
        return PayslipPerson(f"{row[1]} {row[2]}", span, True if covered is None else bool(covered))

    def save_contributions(self, declaration_id: int, result: ContributionResult, computed_at: datetime) -> None:
        """All the contribution lines of a declaration and its entry in the employer's account, once (a
        re-run after a crash replaces nothing)."""
        with self.store.tx() as s:
            declaration = _run(s, _Q.computed_at, {"declaration_id": declaration_id}).one()
            if declaration.computed_at is not None:
                return
            line_ids = dict(_run(s, _Q.line_ids, {"declaration_id": declaration_id}).all())
            if result.lines:  # one executemany: several rows per employee
                _run(s, _Q.insert_contributions, [{
                    "declaration_id": declaration_id, "line_id": line_ids.get(c.line_position or -1), "fund": c.fund,
                    "share": c.share.value, "base": c.base, "ceiling": c.ceiling, "rate": c.rate, "amount": c.amount,
                    "rate_parameter": c.rate_use.parameter, "rate_since": c.rate_use.since, "rate_source": c.rate_use.source,
                } for c in result.lines])
            _run(s, _Q.set_computed, {"declaration_id": declaration_id, "computed_at": computed_at})
            record_charge(s.connection(), declaration, declaration_id, result.lines, computed_at,
                          result.totals)  # the account, in the same transaction

    def contribution_amounts(self, declaration_id: int) -> list[StoredAmount]:
        """What the declaration's stored contributions add up from, in the order they were computed (the
        five columns its totals need: reading whole rows cost more than the acknowledgement that sums them)."""
        with self.store.tx(read=True) as s:
            return [StoredAmount(fund, _SHARES[share], base, rate, amount) for fund, share, base, rate, amount
                    in _run(s, _Q.contribution_amounts, {"declaration_id": declaration_id})]

    # Documents -----------------------------------------------------------------------------------
    def add_document(self, *, kind: str, path: str, sha256: str, size: int, subscriber_id: int | None,
                     received_file_id: int | None = None, employer_id: int | None = None,
                     declaration_id: int | None = None, period: str | None = None,
                     created_at: datetime) -> None:
        """Record a delivered document; delivering the same path again updates its row."""
        with self.store.tx() as s:
            doc = s.scalar(select(Document).where(Document.path == path))
            if doc is None:
                s.add(Document(kind=kind, path=path, sha256=sha256, size=size, subscriber_id=subscriber_id,
                               received_file_id=received_file_id, employer_id=employer_id,
                               declaration_id=declaration_id, period=period, created_at=created_at))
            else:
                doc.sha256, doc.size, doc.removed_at = sha256, size, None

    def add_documents(self, documents: Sequence[dict[str, Any]]) -> None:
        """Several delivered documents (``add_document``'s arguments each) in one transaction: one INSERT
        executemany for the new paths, the rows of paths delivered again updated."""
        by_path = {d["path"]: d for d in documents}
        table = Document.__table__
        with self.store.tx() as s:
            known = set(_run(s, _Q.known_documents, {"paths": list(by_path)}).scalars())
            fresh = [{**_DOCUMENT_BLANK, **d} for p, d in by_path.items() if p not in known]  # same keys each
            if fresh:
                _run(s, _Q.insert_documents, fresh)
            for path in known:
                d = by_path[path]
                s.execute(update(table).where(table.c.path == path)
                          .values(sha256=d["sha256"], size=d["size"], removed_at=None))

    def documents_of(self, file_id: int) -> list[Document]:
        with self.store.tx(read=True) as s:
            return list(s.scalars(select(Document).where(Document.received_file_id == file_id).order_by(Document.id)))


_DOCUMENT_BLANK = {"employer_id": None, "declaration_id": None, "period": None, "received_file_id": None}


def _file_row(r: ReceivedFile | Row[Any], number: str) -> FileRow:
    return FileRow(
        id=r.id, reference=r.reference, subscriber=number, subscriber_id=r.subscriber_id,
        original_name=r.original_name, size=r.size, sha256=r.sha256, kind=r.kind, test=r.test, state=r.state,
        outcome=r.outcome, stored_path=r.stored_path, findings=r.findings, received_at=r.received_at,
        processed_at=r.processed_at, error=r.error,
    )


