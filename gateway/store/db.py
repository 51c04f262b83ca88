"""Engine, sessions and migrations, for SQLite and PostgreSQL from the same code.

SQLite (the embedded default) gets WAL, a busy timeout, foreign keys, and every write transaction opened
with ``BEGIN IMMEDIATE`` so that two writers never deadlock on a lock upgrade; read-only transactions
(``READ_ONLY`` execution option) open with a plain ``BEGIN`` and never wait for a writer (WAL snapshot).
PostgreSQL is used as is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import StoreError

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


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, database errors become StoreError."""
    session = factory()
    try:
        with session.begin():
            yield session
    except SQLAlchemyError as exc:
        raise StoreError(f"base de données: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
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
        raise StoreError(f"base de données injoignable: {str(exc).splitlines()[0]}") from exc


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
