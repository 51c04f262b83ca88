"""Faults of the infrastructure, told apart from faults of a file.

A database that drops its connections, a lock that stays busy, a disk that is full or failing: none of these
is the file's fault. The file keeps its recorded state (its transaction was rolled back, or its documents'
rows were never written) and is taken again once the fault clears; the intake says it is degraded, backs
off and resumes by itself. Only what the file itself causes ends as a refusal with a code that says so.

:func:`reason_of` names the fault behind an exception (or None when it is not one of the infrastructure);
:class:`Outage` says it once per outage in the log instead of once per file.
"""

from __future__ import annotations

import errno
import threading
import time
from datetime import UTC, datetime

from gateway.errors import GatewayError
from gateway.log import get_logger

log = get_logger(__name__)

# Errors of the storage under the outbox, the jobs folder or the database file.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE}


class InfrastructureFault(GatewayError):
    """The database, a lock or the disk failed: the file waits and is taken again once it clears.

    Plain (a message and a short ``reason``) so that it crosses from a worker process intact."""

    default_message = "panne de l'infrastructure"

    def __init__(self, message: str | None = None, reason: str = "infrastructure") -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.reason))


def reason_of(exc: BaseException) -> str | None:
    """``"database"`` or ``"storage"`` when ``exc`` (or what caused it) is a fault of the infrastructure."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from gateway.errors import DatabaseUnavailable

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, InfrastructureFault):
            return current.reason
        if isinstance(current, (OperationalError, InterfaceError, PoolTimeout)):
            return "database"
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return "database"
        if isinstance(current, DatabaseUnavailable):  # among them the writer lock's timeout
            return "database"
        if isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            return "storage"
        current = current.__cause__ or current.__context__
    return None


def as_fault(exc: BaseException) -> InfrastructureFault | None:
    """``exc`` as an :class:`InfrastructureFault` (itself when it is one), or None."""
    if isinstance(exc, InfrastructureFault):
        return exc
    reason = reason_of(exc)
    if reason is None:
        return None
    first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
    return InfrastructureFault(f"{type(exc).__name__}: {first_line}"[:500], reason)


class Outage:
    """The intake's health: ``ready``, or ``degraded`` since a fault, said once when it starts and once when
    it ends (not once per file), with a growing pause between tries (1 s doubling up to ``max_pause``)."""

    def __init__(self, max_pause: float = 60.0) -> None:
        self.max_pause = max_pause
        self._lock = threading.Lock()
        self.reason: str | None = None
        self.detail = ""
        self.since: float | None = None  # monotonic, for how long it lasted
        self.began_at: datetime | None = None  # wall clock (UTC), for what an operator reads
        self.tries = 0

    @property
    def degraded(self) -> bool:
        return self.reason is not None

    def fault(self, fault: InfrastructureFault) -> None:
        with self._lock:
            self.tries += 1
            if self.reason is None:
                self.reason, self.detail, self.since = fault.reason, str(fault), time.monotonic()
                self.began_at = datetime.now(UTC)
                log.warning("intake.degraded", reason=fault.reason, error=str(fault),
                            note="les fichiers attendent ; reprise automatique")
            elif str(fault) != self.detail:  # the same outage, another symptom: said once too
                self.reason, self.detail = fault.reason, str(fault)
                log.warning("intake.still_degraded", reason=fault.reason, error=str(fault), tries=self.tries)

    def ok(self) -> None:
        with self._lock:
            if self.reason is not None:
                lasted = time.monotonic() - (self.since or time.monotonic())
                log.info("intake.resumed", reason=self.reason, seconds=round(lasted, 1), tries=self.tries)
            self.reason, self.detail, self.since, self.began_at, self.tries = None, "", None, None, 0

    def pause(self) -> float:
        """How long to wait before the next try."""
        with self._lock:
            return min(self.max_pause, 2.0 ** max(0, self.tries - 1)) if self.reason else 0.0
