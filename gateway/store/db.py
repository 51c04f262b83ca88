"""Engine, sessions and migrations, for SQLite and PostgreSQL from the same code.

SQLite (the embedded default) gets WAL, a busy timeout, foreign keys, and every write transaction opened
with ``BEGIN IMMEDIATE`` so that two writers never deadlock on a lock upgrade; read-only transactions
(``READ_ONLY`` execution option) open with a plain ``BEGIN`` and never wait for a writer (WAL snapshot).
PostgreSQL is used as is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import DatabaseUnavailable, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "gateway_read_only"  # execution option: this transaction only reads


def make_engine(url: str, *, busy_timeout_ms: int = 30000, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite tuned for one writer process and many readers."""
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            db_path = url.split("///", 1)[1]
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not the driver, open transactions, so we can say BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            # a reader takes no lock: in WAL mode it reads a snapshot while one writer works
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, echo=echo, pool_pre_ping=True)


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}) if read_only else engine,
                        expire_on_commit=False)


class WriterLock:
    """The writers of one SQLite file, one at a time across threads and processes, each woken within a
    millisecond of the previous commit.

    SQLite's own lock stays the guard; this only queues the gateway's writers in front of it. A writer that
    finds the database locked is otherwise put to sleep by SQLite's busy handler for up to 100 ms at a time,
    however soon the lock is free: with two worker processes recording files that cost more than the work.
    Held from before ``BEGIN IMMEDIATE`` to after ``COMMIT``; an flock on ``<database>-writer.lock``, released
    by the kernel if the process dies.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if not self._threads.acquire(timeout=self.timeout):
            raise DatabaseUnavailable("base de données occupée (écriture en attente depuis trop longtemps)")
        try:
            fd = self._file()
            deadline, pause = time.monotonic() + self.timeout, 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DatabaseUnavailable("base de données occupée (écriture en attente depuis trop longtemps)") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def store_error(exc: SQLAlchemyError) -> StoreError:
    """A database error as the gateway reports it (the driver's first line, no parameters); a lost or refused
    connection, a busy lock or a full disk is :class:`DatabaseUnavailable` (retried, not the file's fault)."""
    unavailable = isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)
    kind = DatabaseUnavailable if unavailable else StoreError
    return kind(f"base de données: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


def writer_lock(engine: Engine, timeout_ms: int) -> WriterLock | None:
    """The writer queue of a SQLite database file (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return None
    return WriterLock(Path(engine.url.database + "-writer.lock"), timeout_ms / 1000)


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session], lock: WriterLock | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, database errors become StoreError."""
    with lock.held() if lock is not None else contextlib.nullcontext():
        session = factory()
        try:
            with session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise store_error(exc) from exc
        finally:
            session.close()


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``; returns (before, after). Running it twice changes nothing."""
    before = current_revision(engine)
    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"migration impossible: {exc}") from exc
    return before, current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"base de données injoignable: {str(exc).splitlines()[0]}") from exc


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the one this code expects."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StoreError(
            f"le schéma de la base est à la révision {current or 'vide'}, le code attend {head}: "
            "lancez « gateway db upgrade »"
        )
