"""The repository: every query and write the gateway makes, behind plain methods.

``Store.open(config)`` checks the schema is current; ``Store.create(config)`` upgrades it first.
Methods take and return plain values (numbers as strings, dates, Decimals), never sessions.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, bindparam, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Config
from gateway.domain import Period
from gateway.errors import InputError, NotFound
from gateway.rules.view import KnownEmployee
from gateway.security import hash_password
from gateway.store import db
from gateway.store.models import (
    Assignment,
    Declaration,
    Employee,
    Employer,
    Employment,
    SshKey,
    Subscriber,
    WorkPermit,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EmployeeRow:
    """One row of the Caisses' employee register (``gateway employee import``)."""

    registration: str
    last_name: str
    first_name: str
    birth_date: date | None
    employer: str | None = None
    start: date | None = None
    end: date | None = None
    line: int = 0


@dataclass(frozen=True)
class PermitRow:
    """One row of the work-permit register (``gateway permit import``)."""

    employer: str
    registration: str
    valid_from: date
    valid_to: date | None
    line: int = 0


class Store:
    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.config = config
        self.sessions: sessionmaker[Session] = db.session_factory(engine)
        self.read_sessions: sessionmaker[Session] = db.session_factory(engine, read_only=True)
        self._ambient = threading.local()
        self.writer_lock = db.writer_lock(engine, config.database.busy_timeout_ms)

    # Opening -----------------------------------------------------------------------------------
    @classmethod
    def connect(cls, config: Config) -> Store:
        engine = db.make_engine(
            config.database_url, busy_timeout_ms=config.database.busy_timeout_ms, echo=config.database.echo
        )
        return cls(engine, config)

    @classmethod
    def open(cls, config: Config) -> Store:
        """The store of an initialised database; refuses a schema older or newer than the code."""
        store = cls.connect(config)
        db.require_current(store.engine)
        return store

    def upgrade(self) -> tuple[str | None, str | None]:
        return db.upgrade(self.engine)

    @contextmanager
    def tx(self, *, read: bool = False, savepoint: bool = False) -> Iterator[Session]:
        """One transaction; ``read=True`` when it only reads (on SQLite it then waits for no writer).

        Inside :meth:`unit` it is part of the unit's transaction, committed with the unit; an error inside it
        undoes the whole unit, unless ``savepoint=True`` (for a caller that catches the error and goes on:
        only its own part is undone, as its own transaction would have been)."""
        ambient: Session | None = getattr(self._ambient, "session", None)
        if ambient is not None:
            if read:
                yield ambient
                return
            if self._ambient.read_only:
                raise RuntimeError("write transaction inside a read-only unit")
            if not savepoint:
                yield ambient
                return
            try:
                with ambient.begin_nested():
                    yield ambient
            except SQLAlchemyError as exc:
                raise db.store_error(exc) from exc
            return
        with db.transaction(self.read_sessions if read else self.sessions,
                            None if read else self.writer_lock) as session:
            yield session

    @contextmanager
    def unit(self, *, read: bool = False) -> Iterator[None]:
        """The transactions of a block (on this thread) as one: committed together, or none of them; with
        ``read=True``, a block that only reads, from one snapshot and without a lock."""
        if getattr(self._ambient, "session", None) is not None:
            if not read and self._ambient.read_only:
                raise RuntimeError("write unit inside a read-only unit")
            yield
            return
        with db.transaction(self.read_sessions if read else self.sessions,
                            None if read else self.writer_lock) as session:
            self._ambient.session, self._ambient.read_only = session, read
            try:
                yield
            finally:
                self._ambient.session = None

    def close(self) -> None:
        self.engine.dispose()

    # Subscribers --------------------------------------------------------------------------------
    def add_subscriber(self, number: str, name: str, email: str | None = None, password: str | None = None) -> None:
        _check_digits(number, 5, 10, "numéro d'abonné")
        with self.tx() as s:
            if s.scalar(select(Subscriber.id).where(Subscriber.number == number)):
                raise InputError(f"l'abonné {number} existe déjà")
            s.add(Subscriber(
                number=number, name=name, email=email, disabled=False, created_at=utcnow(),
                password_hash=hash_password(password) if password else None,
            ))

    def subscriber(self, s: Session, number: str) -> Subscriber:
        sub = s.scalar(select(Subscriber).where(Subscriber.number == number))
        if sub is None:
            raise NotFound(f"abonné {number} introuvable")
        return sub

    def list_subscribers(self) -> list[dict[str, object]]:
        with self.tx() as s:
            rows = s.scalars(select(Subscriber).order_by(Subscriber.number)).all()
            return [self._subscriber_dict(s, sub) for sub in rows]

    def show_subscriber(self, number: str) -> dict[str, object]:
        with self.tx() as s:
            return self._subscriber_dict(s, self.subscriber(s, number))

    def _subscriber_dict(self, s: Session, sub: Subscriber) -> dict[str, object]:
        employers = s.execute(
            select(Employer.number, Employer.name, Assignment.valid_from, Assignment.valid_to)
            .join(Assignment, Assignment.employer_id == Employer.id)
            .where(Assignment.subscriber_id == sub.id)
            .order_by(Employer.number, Assignment.valid_from)
        ).all()
        return {
            "number": sub.number,
            "name": sub.name,
            "email": sub.email,
            "email_verified_at": sub.email_verified_at,
            "has_password": bool(sub.password_hash),
            "keys": [k.fingerprint for k in sub.keys],
            "disabled": sub.disabled,
            "employers": [
                {"number": n, "name": nm, "from": f, "to": t} for n, nm, f, t in employers
            ],
        }

    def set_password(self, number: str, password: str) -> None:
        with self.tx() as s:
            self.subscriber(s, number).password_hash = hash_password(password)

    def set_disabled(self, number: str, disabled: bool = True) -> None:
        with self.tx() as s:
            self.subscriber(s, number).disabled = disabled

    def set_email(self, number: str, email: str, code: str | None, verified_at: datetime | None = None) -> None:
        with self.tx() as s:
            sub = self.subscriber(s, number)
            sub.email = email
            sub.email_verification_code = code
            sub.email_verified_at = verified_at

    def add_key(self, number: str, public_key_line: str) -> str:
        """Register an OpenSSH public key line (``ssh-ed25519 AAAA... comment``); returns its fingerprint."""
        key_type, blob, comment = parse_public_key(public_key_line)
        fingerprint = key_fingerprint(blob)
        with self.tx() as s:
            sub = self.subscriber(s, number)
            if any(k.fingerprint == fingerprint for k in sub.keys):
                raise InputError(f"cette clé est déjà enregistrée pour l'abonné {number}")
            sub.keys.append(SshKey(
                key_type=key_type, key_data=base64.b64encode(blob).decode(), fingerprint=fingerprint,
                comment=comment, added_at=utcnow(),
            ))
        return fingerprint

    def login_info(self, number: str) -> tuple[str | None, bool, bool, list[tuple[str, bytes]]] | None:
        """(password hash, disabled, e-mail verified, keys as (type, blob)) of a subscriber; None if unknown."""
        with self.tx() as s:
            sub = s.scalar(select(Subscriber).where(Subscriber.number == number))
            if sub is None:
                return None
            keys = [(k.key_type, base64.b64decode(k.key_data)) for k in sub.keys]
            return sub.password_hash, sub.disabled, sub.email_verified_at is not None, keys

    # Employers ----------------------------------------------------------------------------------
    def add_employer(
        self, number: str, name: str, address: str = "", *, building_trade: bool = False, household: bool = False,
    ) -> None:
        _check_digits(number, 5, 9, "numéro d'employeur")
        with self.tx() as s:
            if s.scalar(select(Employer.id).where(Employer.number == number)):
                raise InputError(f"l'employeur {number} existe déjà")
            s.add(Employer(
                number=number, name=name, address=address, active=True, building_trade=building_trade,
                household=household, direct_debit=False, created_at=utcnow(),
            ))

    def employer(self, s: Session, number: str) -> Employer:
        emp = s.scalar(select(Employer).where(Employer.number == number))
        if emp is None:
            raise NotFound(f"employeur {number} introuvable")
        return emp

    def list_employers(self) -> list[dict[str, object]]:
        with self.tx() as s:
            return [_employer_dict(e) for e in s.scalars(select(Employer).order_by(Employer.number))]

    def show_employer(self, number: str) -> dict[str, object]:
        with self.tx() as s:
            emp = self.employer(s, number)
            out = _employer_dict(emp)
            out["subscribers"] = [
                {"number": n, "from": f, "to": t}
                for n, f, t in s.execute(
                    select(Subscriber.number, Assignment.valid_from, Assignment.valid_to)
                    .join(Assignment, Assignment.subscriber_id == Subscriber.id)
                    .where(Assignment.employer_id == emp.id).order_by(Assignment.valid_from)
                )
            ]
            out["employees"] = s.scalar(
                select(Employment.id).where(Employment.employer_id == emp.id).limit(1)
            ) is not None
            return out

    def assign(self, subscriber: str, employer: str, valid_from: date) -> None:
        """The subscriber declares for the employer from ``valid_from``; one open assignment per employer."""
        with self.tx() as s:
            sub, emp = self.subscriber(s, subscriber), self.employer(s, employer)
            current = s.scalars(
                select(Assignment).where(Assignment.employer_id == emp.id, Assignment.valid_to.is_(None))
            ).all()
            for a in current:
                if a.subscriber_id == sub.id:
                    raise InputError(f"l'abonné {subscriber} déclare déjà pour l'employeur {employer}")
                raise InputError(
                    f"l'employeur {employer} est déjà confié à un autre abonné: retirez-le d'abord (unassign)"
                )
            s.add(Assignment(subscriber_id=sub.id, employer_id=emp.id, valid_from=valid_from, valid_to=None))

    def unassign(self, subscriber: str, employer: str, valid_to: date) -> None:
        with self.tx() as s:
            sub, emp = self.subscriber(s, subscriber), self.employer(s, employer)
            a = s.scalar(select(Assignment).where(
                Assignment.subscriber_id == sub.id, Assignment.employer_id == emp.id, Assignment.valid_to.is_(None)
            ))
            if a is None:
                raise NotFound(f"l'abonné {subscriber} ne déclare pas pour l'employeur {employer}")
            if valid_to < a.valid_from:
                raise InputError("la date de fin précède le début de l'affectation")
            a.valid_to = valid_to

    # Registers (imports) ------------------------------------------------------------------------
    def import_employees(self, rows: Iterable[EmployeeRow]) -> tuple[int, int]:
        """All rows or none: returns (employees created or updated, employments created)."""
        people = employments = 0
        with self.tx() as s:
            employer_ids = {n: i for n, i in s.execute(select(Employer.number, Employer.id))}
            for row in rows:
                emp = s.scalar(select(Employee).where(Employee.registration == row.registration))
                if emp is None:
                    emp = Employee(registration=row.registration, created_at=utcnow(), provisional=False,
                                   last_name=row.last_name, first_name=row.first_name, birth_date=row.birth_date)
                    s.add(emp)
                else:
                    emp.last_name, emp.first_name, emp.birth_date = row.last_name, row.first_name, row.birth_date
                    emp.provisional = False
                people += 1
                if row.employer:
                    if row.employer not in employer_ids:
                        raise InputError(f"employeur {row.employer} inconnu", line=row.line, column="employer")
                    if row.start is None:
                        raise InputError("date de début d'emploi manquante", line=row.line, column="start")
                    s.flush()
                    exists = s.scalar(select(Employment.id).where(
                        Employment.employer_id == employer_ids[row.employer],
                        Employment.employee_id == emp.id, Employment.start == row.start,
                    ))
                    if not exists:
                        s.add(Employment(employer_id=employer_ids[row.employer], employee_id=emp.id,
                                         start=row.start, end=row.end))
                        employments += 1
        return people, employments

    def import_permits(self, rows: Iterable[PermitRow]) -> int:
        count = 0
        with self.tx() as s:
            employer_ids = {n: i for n, i in s.execute(select(Employer.number, Employer.id))}
            for row in rows:
                if row.employer not in employer_ids:
                    raise InputError(f"employeur {row.employer} inconnu", line=row.line, column="employer")
                emp_id = s.scalar(select(Employee.id).where(Employee.registration == row.registration))
                if emp_id is None:
                    raise InputError(f"salarié {row.registration} inconnu", line=row.line, column="registration")
                exists = s.scalar(select(WorkPermit.id).where(
                    WorkPermit.employer_id == employer_ids[row.employer], WorkPermit.employee_id == emp_id,
                    WorkPermit.valid_from == row.valid_from,
                ))
                if exists:
                    continue
                s.add(WorkPermit(employer_id=employer_ids[row.employer], employee_id=emp_id,
                                 valid_from=row.valid_from, valid_to=row.valid_to))
                count += 1
        return count

    # The rules' view ------------------------------------------------------------------------------
    def records_view(self, subscriber: str) -> StoreView:
        return StoreView(self)


_EMP, _ER, _JOB = Employee.__table__, Employer.__table__, Employment.__table__
_ASSIGN, _SUB, _DECL = Assignment.__table__, Subscriber.__table__, Declaration.__table__


class _ViewQ:
    """The rules' questions, built once (see ``gateway.store.intake._Q``: asked for every file)."""

    employees = select(_EMP.c.registration, _EMP.c.last_name, _EMP.c.first_name, _EMP.c.birth_date) \
        .where(_EMP.c.registration.in_(bindparam("registrations", expanding=True)))
    jobs = select(_ER.c.number, _EMP.c.registration, _JOB.c.start, _JOB.c.end) \
        .join(_ER, _ER.c.id == _JOB.c.employer_id).join(_EMP, _EMP.c.id == _JOB.c.employee_id) \
        .where(_ER.c.number.in_(bindparam("numbers", expanding=True)),
               _EMP.c.registration.in_(bindparam("registrations", expanding=True)))
    assigned = select(_ASSIGN.c.id).join(_SUB, _SUB.c.id == _ASSIGN.c.subscriber_id) \
        .join(_ER, _ER.c.id == _ASSIGN.c.employer_id) \
        .where(_SUB.c.number == bindparam("subscriber"), _ER.c.number == bindparam("employer"),
               _ASSIGN.c.valid_from <= bindparam("on"),
               or_(_ASSIGN.c.valid_to.is_(None), _ASSIGN.c.valid_to >= bindparam("on"))).limit(1)
    declared = select(_DECL.c.id).join(_ER, _ER.c.id == _DECL.c.employer_id) \
        .where(_ER.c.number == bindparam("employer"), _DECL.c.period == bindparam("period"),
               _DECL.c.kind == "original").limit(1)


class StoreView:
    """The RecordsView of the declaration rules over the database.

    ``prefetch`` loads, in a few queries, the employees and employments a file mentions; the questions the
    rules then ask about them are answered from memory (one view serves one file, at one moment).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._employees: dict[str, KnownEmployee | None] = {}
        self._jobs: dict[tuple[str, str], list[tuple[date, date | None]]] = {}
        self._employers: set[str] = set()
        self._prefetched: set[str] = set()
        self._assigned: dict[tuple[str, str, date], bool] = {}

    def prefetch(self, employers: Iterable[str], registrations: Iterable[str]) -> None:
        regs = sorted(set(registrations))
        numbers = sorted(set(employers))
        with self._store.tx(read=True) as s:
            conn = s.connection()
            for i in range(0, len(regs), 500):
                chunk = regs[i:i + 500]
                for reg, last_name, first_name, birth_date in conn.execute(_ViewQ.employees,
                                                                           {"registrations": chunk}):
                    self._employees[reg] = KnownEmployee(reg, last_name, first_name, birth_date)
                for reg in chunk:
                    self._employees.setdefault(reg, None)
                rows = conn.execute(_ViewQ.jobs, {"numbers": numbers, "registrations": chunk})
                for number, reg, start, end in rows:
                    self._jobs.setdefault((number, reg), []).append((start, end))
        self._employers |= set(numbers)
        self._prefetched |= set(regs)

    def is_assigned(self, subscriber: str, employer: str, on: date) -> bool:
        key = (subscriber, employer, on)
        if key not in self._assigned:  # asked once per declaration or payslip request: a file repeats them
            self._assigned[key] = self._is_assigned(subscriber, employer, on)
        return self._assigned[key]

    def _is_assigned(self, subscriber: str, employer: str, on: date) -> bool:
        with self._store.tx(read=True) as s:
            return s.connection().execute(
                _ViewQ.assigned, {"subscriber": subscriber, "employer": employer, "on": on}).scalar() is not None

    def has_declaration(self, employer: str, period: Period) -> bool:
        with self._store.tx(read=True) as s:
            return s.connection().execute(
                _ViewQ.declared, {"employer": employer, "period": str(period)}).scalar() is not None

    def employee(self, registration: str) -> KnownEmployee | None:
        if registration in self._employees:
            return self._employees[registration]
        with self._store.tx(read=True) as s:
            e = s.scalar(select(Employee).where(Employee.registration == registration))
            if e is None:
                return None
            return KnownEmployee(e.registration, e.last_name, e.first_name, e.birth_date)

    def is_employed(self, employer: str, registration: str, on: date) -> bool:
        if employer in self._employers and registration in self._prefetched:
            return any(start <= on and (end is None or end >= on)
                       for start, end in self._jobs.get((employer, registration), ()))
        with self._store.tx(read=True) as s:
            return s.scalar(
                select(Employment.id)
                .join(Employer, Employer.id == Employment.employer_id)
                .join(Employee, Employee.id == Employment.employee_id)
                .where(Employer.number == employer, Employee.registration == registration,
                       Employment.start <= on, or_(Employment.end.is_(None), Employment.end >= on))
                .limit(1)
            ) is not None


def _employer_dict(e: Employer) -> dict[str, object]:
    return {
        "number": e.number, "name": e.name, "address": e.address, "active": e.active,
        "building_trade": e.building_trade, "household": e.household, "direct_debit": e.direct_debit,
        "mandate_reference": e.mandate_reference, "mandate_signed_on": e.mandate_signed_on,
        "payment_incident_at": e.payment_incident_at,
    }


def _check_digits(value: str, low: int, high: int, what: str) -> None:
    if not (value.isascii() and value.isdigit() and low <= len(value) <= high):
        raise InputError(f"{what} invalide: {value!r} (attendu {low} à {high} chiffres)")


def parse_public_key(line: str) -> tuple[str, bytes, str | None]:
    """``type base64 [comment]`` → (type, blob, comment); the blob must announce the same type."""
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise InputError("clé publique invalide: attendu « type base64 [commentaire] »")
    key_type, b64 = parts[0], parts[1]
    try:
        blob = base64.b64decode(b64, validate=True)
    except ValueError:
        raise InputError("clé publique invalide: base64 illisible") from None
    n = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if n <= 0 or blob[4:4 + n].decode("ascii", "replace") != key_type:
        raise InputError("clé publique invalide: le type ne correspond pas au contenu")
    allowed = {"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}
    if key_type not in allowed:
        raise InputError(f"type de clé non accepté: {key_type}")
    return key_type, blob, parts[2] if len(parts) > 2 else None


def key_fingerprint(blob: bytes) -> str:
    """OpenSSH's form: ``SHA256:`` + unpadded base64 of the blob's SHA-256."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
