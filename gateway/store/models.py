"""Tables of the gateway, as SQLAlchemy 2 typed mappings.

Every change here is an Alembic migration in ``migrations/versions`` (a test compares both).
Money columns are ``Numeric(12, 2)`` (rates ``Numeric(9, 6)``) and come back as ``Decimal``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)
Rate = Numeric(9, 6)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC and returned aware (SQLite keeps no zone: we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: use an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Moment = UtcDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Subscriber(Base):
    """An account on the gateway (abonné): an employer declaring for itself or an accounting firm."""

    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    email_verified_at: Mapped[datetime | None] = mapped_column(Moment)
    email_verification_code: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(Moment)

    keys: Mapped[list[SshKey]] = relationship(back_populates="subscriber", cascade="all, delete-orphan")


class SshKey(Base):
    """A public key a subscriber may log in with over SFTP."""

    __tablename__ = "ssh_keys"
    __table_args__ = (UniqueConstraint("subscriber_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    key_type: Mapped[str] = mapped_column(String(40))
    key_data: Mapped[str] = mapped_column(Text)  # base64 blob of the OpenSSH public key
    fingerprint: Mapped[str] = mapped_column(String(100))  # SHA256:...
    comment: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(Moment)

    subscriber: Mapped[Subscriber] = relationship(back_populates="keys")


class Employer(Base):
    """A client (employeur), with its direct-debit mandate when it has one."""

    __tablename__ = "employers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    building_trade: Mapped[bool] = mapped_column(Boolean, default=False)
    household: Mapped[bool] = mapped_column(Boolean, default=False)
    direct_debit: Mapped[bool] = mapped_column(Boolean, default=False)
    mandate_reference: Mapped[str | None] = mapped_column(String(35), unique=True)
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    mandate_signed_on: Mapped[date | None] = mapped_column(Date)
    # set when a collection was rejected or returned: no direct debit and statements on paper until cleared
    payment_incident_at: Mapped[datetime | None] = mapped_column(Moment)
    created_at: Mapped[datetime] = mapped_column(Moment)


class Assignment(Base):
    """Which subscriber declares for which employer, from a date, until a date (exclusive end: none)."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_pair", "subscriber_id", "employer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Employee(Base):
    """A person known to the Caisses (or provisionally, when first declared without a registration)."""

    __tablename__ = "employees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration: Mapped[str] = mapped_column(String(12), unique=True)
    last_name: Mapped[str] = mapped_column(String(60))
    first_name: Mapped[str] = mapped_column(String(60))
    birth_date: Mapped[date | None] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(Moment)


class Employment(Base):
    """A contract of an employee with an employer (end None: still employed)."""

    __tablename__ = "employments"
    __table_args__ = (Index("ix_employments_pair", "employer_id", "employee_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)


class WorkPermit(Base):
    """A work permit (autorisation d'embauche) of an employee with an employer."""

    __tablename__ = "work_permits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ReceivedFile(Base):
    """An upload, from the moment it is claimed: its bytes' hash, its state, its reference."""

    __tablename__ = "received_files"
    __table_args__ = (UniqueConstraint("subscriber_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(20))
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    stored_path: Mapped[str] = mapped_column(String(500))
    run_id: Mapped[str | None] = mapped_column(String(40))
    findings: Mapped[list | None] = mapped_column(JSON)  # type: ignore[type-arg]
    total_findings: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(Moment)
    processed_at: Mapped[datetime | None] = mapped_column(Moment)
    updated_at: Mapped[datetime] = mapped_column(Moment)


class Declaration(Base):
    """A recorded declaration of one employer for one period."""

    __tablename__ = "declarations"
    __table_args__ = (
        Index("ix_declarations_employer_period", "employer_id", "period"),
        # one original per employer and period; corrections are separate rows with their own kind
        Index("uq_declarations_original", "employer_id", "period", unique=True,
              postgresql_where=text("kind = 'original'"), sqlite_where=text("kind = 'original'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(48), unique=True)
    received_file_id: Mapped[int | None] = mapped_column(ForeignKey("received_files.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"))
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20), default="original")  # original | complementary | rectifying
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("declarations.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=1)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    employees: Mapped[int] = mapped_column(Integer)
    total_gross: Mapped[Decimal] = mapped_column(Money)
    total_hours: Mapped[Decimal] = mapped_column(Money)
    received_at: Mapped[datetime] = mapped_column(Moment)
    recorded_at: Mapped[datetime] = mapped_column(Moment)
    computed_at: Mapped[datetime | None] = mapped_column(Moment)

    lines: Mapped[list[DeclarationLine]] = relationship(
        back_populates="declaration", cascade="all, delete-orphan", order_by="DeclarationLine.position"
    )


class DeclarationLine(Base):
    __tablename__ = "declaration_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    gross: Mapped[Decimal] = mapped_column(Money)
    hours: Mapped[Decimal] = mapped_column(Money)
    director: Mapped[bool] = mapped_column(Boolean, default=False)
    unemployment_insurance: Mapped[bool] = mapped_column(Boolean, default=True)

    declaration: Mapped[Declaration] = relationship(back_populates="lines")
    events: Mapped[list[DeclarationEvent]] = relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="DeclarationEvent.id"
    )


class DeclarationEvent(Base):
    __tablename__ = "declaration_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("declaration_lines.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    hours: Mapped[Decimal | None] = mapped_column(Money)

    line: Mapped[DeclarationLine] = relationship(back_populates="events")


class Contribution(Base):
    """One computed amount: a line (or the whole declaration), a fund, a share, with its base and rate."""

    __tablename__ = "contributions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("declaration_lines.id", ondelete="CASCADE"), index=True)
    fund: Mapped[str] = mapped_column(String(30))
    share: Mapped[str] = mapped_column(String(10))  # employer | employee
    base: Mapped[Decimal] = mapped_column(Money)
    ceiling: Mapped[Decimal | None] = mapped_column(Money)
    rate: Mapped[Decimal] = mapped_column(Rate)
    amount: Mapped[Decimal] = mapped_column(Money)
    rate_parameter: Mapped[str] = mapped_column(String(100))
    rate_since: Mapped[date] = mapped_column(Date)
    rate_source: Mapped[str | None] = mapped_column(Text)


class Document(Base):
    """A document the gateway delivered into an outbox (acknowledgement, PDF, statement, ...)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    received_file_id: Mapped[int | None] = mapped_column(ForeignKey("received_files.id"), index=True)
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("declarations.id"), index=True)
    period: Mapped[str | None] = mapped_column(String(7))
    path: Mapped[str] = mapped_column(String(500))  # relative to the outbox root
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Moment)
    removed_at: Mapped[datetime | None] = mapped_column(Moment)
    # remote mode: when and which bytes were last put on the remote SFTP outbox (gateway/remote.py)
    pushed_at: Mapped[datetime | None] = mapped_column(Moment)
    pushed_sha256: Mapped[str | None] = mapped_column(String(64))


class JobRun(Base):
    """One run of a job (intake batch, monthly job): what it took, produced, and how it ended."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_key", "job", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), unique=True)
    job: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(40))  # e.g. the period a monthly job ran for
    instance: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(Moment)
    finished_at: Mapped[datetime | None] = mapped_column(Moment)
    status: Mapped[str] = mapped_column(String(20))  # running | succeeded | warnings | failed
    summary: Mapped[dict | None] = mapped_column(JSON)  # type: ignore[type-arg]


class Notification(Base):
    """An e-mail to send (or sent): retried until it leaves, never blocking a job."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("dedup_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Moment)
    sent_at: Mapped[datetime | None] = mapped_column(Moment)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(Moment)
    last_error: Mapped[str | None] = mapped_column(Text)


class AccountEntry(Base):
    """One entry of an employer's account (compte cotisant), never updated once written: what a declaration
    adds (a rectifying one: the difference), a collection exported (negative), a collection returned.
    See :mod:`gateway.rules.account`."""

    __tablename__ = "account_entries"
    __table_args__ = (Index("ix_account_entries_employer_period", "employer_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"))
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20))  # declaration | complementary | rectifying | collection | return
    amount: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(64))  # declaration reference or collection EndToEndId
    declaration_id: Mapped[int | None] = mapped_column(ForeignKey("declarations.id"), unique=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("sepa_collections.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Moment)


class AccountEntryLine(Base):
    """One fund and share of an account entry."""

    __tablename__ = "account_entry_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("account_entries.id", ondelete="CASCADE"), index=True)
    fund: Mapped[str] = mapped_column(String(30))
    share: Mapped[str] = mapped_column(String(10))
    base: Mapped[Decimal] = mapped_column(Money)
    rate: Mapped[Decimal | None] = mapped_column(Rate)
    amount: Mapped[Decimal] = mapped_column(Money)


class SepaBatch(Base):
    """A pain.008 batch as exported: its bytes kept, so that exporting again gives the same file."""

    __tablename__ = "sepa_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    collection_date: Mapped[date] = mapped_column(Date)
    payments: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    sha256: Mapped[str] = mapped_column(String(64))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Moment)


class SepaCollection(Base):
    """One direct debit of one employer in a batch, with its unique EndToEndId."""

    __tablename__ = "sepa_collections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("sepa_batches.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    mandate_reference: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(20))  # exported | rejected | returned
    reason_code: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None] = mapped_column(Moment)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("sepa_reports.id"))


class SepaReport(Base):
    """A bank report imported (pain.002 or camt.054): never applied twice."""

    __tablename__ = "sepa_reports"
    __table_args__ = (UniqueConstraint("kind", "message_id", name="uq_sepa_reports_kind_message"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str] = mapped_column(String(35))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(Moment)
    summary: Mapped[dict | None] = mapped_column(JSON)  # type: ignore[type-arg]


class Statement(Base):
    """One version of a statement (relevé) of an employer and period; a new version when its figures change."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("employer_id", "period", "version", name="uq_statements_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    balance: Mapped[Decimal] = mapped_column(Money)
    debit_on: Mapped[date | None] = mapped_column(Date)
    path: Mapped[str] = mapped_column(String(500))
    issued_at: Mapped[datetime] = mapped_column(Moment)


class IntakeClaim(Base):
    """A received file still being worked on; locked FOR UPDATE SKIP LOCKED by the process working on it."""

    __tablename__ = "intake_claims"
    received_file_id: Mapped[int] = mapped_column(ForeignKey("received_files.id"), primary_key=True)
