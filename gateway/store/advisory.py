"""A PostgreSQL advisory lock held on a dedicated connection: a scheduled job runs once across instances.

The lock lives as long as the connection: a lost connection releases it on the server, and nothing here
raises on the way out.
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gateway.log import get_logger
from gateway.store.repo import Store

log = get_logger(__name__)


class AdvisoryLock:
    """``pg_try_advisory_lock`` held on a dedicated connection for a run (PostgreSQL only)."""

    def __init__(self, store: Store, name: str) -> None:
        self.store, self.key = store, zlib.crc32(f"csm-gateway:job:{name}".encode()) & 0x7FFFFFFF
        self.conn: Any = None

    def __enter__(self) -> bool:
        try:
            self.conn = self.store.engine.connect()
            got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            self.conn.commit()
        except SQLAlchemyError as exc:  # unreachable database: skip this run, the next one will try again
            log.warning("job.lock_unavailable", key=self.key, error=str(exc).splitlines()[0] if str(exc) else "")
            self._close()
            return False
        if not got:
            self._close()
        return got

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.commit()
            except SQLAlchemyError:  # connection lost: the server has already released the lock
                log.info("job.unlock_lost", key=self.key)
            self._close()

    def _close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.invalidate() if self.conn.invalidated else self.conn.close()
            except SQLAlchemyError:
                log.info("job.lock_close_failed", key=self.key)
            self.conn = None
