"""How much of the built-in SFTP server one client may hold: connection slots, open handles, file descriptors.

- :class:`Admission` counts connections all together, per source address and, per address, those not yet
  logged in; and logged-in connections per subscriber. A connection over a cap is refused at once (before
  any SSH banner), a login over its subscriber's cap is refused at authentication. Addresses are taken as
  :func:`address_key` gives them: an IPv6 client holds a whole /64, so it counts as one.
- :class:`HandleBudget` counts the open files and folders of one connection, every channel together.
- :func:`ensure_fd_limit` checks at start-up that the process may open the descriptors those caps allow.

No paramiko here: the server (``sftp_server``) and the sessions (``sftp_fs``) call these.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gateway.config import SftpSection
from gateway.errors import TransportError

# Descriptors one connection uses besides its open handles: its socket, and the short-lived ones of a
# folder listing or an fsync of the inbox folder in each of its channels (measured: 1 with 4 channels idle).
FDS_PER_CONNECTION = 8
# Descriptors the rest of the process needs: database connections, logs, schemas, fonts, worker pipes.
FDS_RESERVE = 256


def address_key(host: str) -> str:
    """The address a client is counted under: IPv4 as it is, IPv6 by its /64 (an IPv4-mapped one as IPv4)."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Caps:
    """The connection caps of :class:`Admission` (from ``[sftp]``)."""

    connections: int = 50
    per_address: int = 20
    unauthenticated_per_address: int = 10
    sessions_per_subscriber: int = 8

    @classmethod
    def from_settings(cls, s: SftpSection) -> Caps:
        return cls(s.max_connections, s.max_connections_per_address, s.max_unauthenticated_per_address,
                   s.max_sessions_per_subscriber)


class Admission:
    """The connection slots of one server. Thread-safe; every :meth:`admit` is matched by a :meth:`leave`."""

    def __init__(self, caps: Caps) -> None:
        self.caps = caps
        self._lock = threading.Lock()
        self._total = 0
        self._per_address: dict[str, int] = {}
        self._unauthenticated: dict[str, int] = {}
        self._sessions: dict[str, int] = {}

    def admit(self, address: str) -> str | None:
        """Take a slot for a new connection from ``address`` (an :func:`address_key`), not yet logged in.

        Returns None when admitted, else the cap it would exceed: ``"total"``, ``"address"`` or
        ``"unauthenticated"``.
        """
        with self._lock:
            if self._total >= self.caps.connections:
                return "total"
            if self._per_address.get(address, 0) >= self.caps.per_address:
                return "address"
            if self._unauthenticated.get(address, 0) >= self.caps.unauthenticated_per_address:
                return "unauthenticated"
            self._total += 1
            _add(self._per_address, address, 1)
            _add(self._unauthenticated, address, 1)
            return None

    def log_in(self, address: str, subscriber: str) -> bool:
        """A connection from ``address`` authenticated as ``subscriber``: False if it already has its maximum."""
        with self._lock:
            if self._sessions.get(subscriber, 0) >= self.caps.sessions_per_subscriber:
                return False
            _add(self._sessions, subscriber, 1)
            _add(self._unauthenticated, address, -1)
            return True

    def leave(self, address: str, subscriber: str | None) -> None:
        """The connection ended; ``subscriber`` is the one :meth:`log_in` accepted, or None."""
        with self._lock:
            self._total -= 1
            _add(self._per_address, address, -1)
            if subscriber is None:
                _add(self._unauthenticated, address, -1)
            else:
                _add(self._sessions, subscriber, -1)

    def sessions(self, subscriber: str) -> int:
        with self._lock:
            return self._sessions.get(subscriber, 0)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total


def _add(counts: dict[str, int], key: str, n: int) -> None:
    left = counts.get(key, 0) + n
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)


class HandleBudget:
    """The open handles of one connection, all its SFTP channels together, at most ``limit``.

    Each channel attaches a function counting its own open handles; an open request first takes a
    reservation (:meth:`reserve`), held while paramiko opens the file and enters it in the channel's table,
    so two channels opening at once cannot both take the last place.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._counters: dict[int, Callable[[], int]] = {}
        self._pending = 0

    def attach(self, key: int, count: Callable[[], int]) -> None:
        with self._lock:
            self._counters[key] = count

    def detach(self, key: int) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def in_use(self) -> int:
        with self._lock:
            return self._used()

    def _used(self) -> int:
        return sum(count() for count in self._counters.values()) + self._pending

    @contextmanager
    def reserve(self) -> Iterator[bool]:
        """Yields True (a place is held until the block ends) or False (the connection has ``limit`` open)."""
        with self._lock:
            ok = self._used() < self.limit
            if ok:
                self._pending += 1
        try:
            yield ok
        finally:
            if ok:
                with self._lock:
                    self._pending -= 1


def fds_needed(s: SftpSection) -> int:
    """Descriptors the caps of ``s`` allow the server to hold at once, plus the rest of the process."""
    return s.max_connections * (s.max_open_handles + FDS_PER_CONNECTION) + FDS_RESERVE


def ensure_fd_limit(s: SftpSection) -> tuple[int, int]:
    """Make RLIMIT_NOFILE cover :func:`fds_needed`: raise the soft limit (up to the hard one) if needed.

    Returns (needed, soft limit now). Raises :class:`TransportError` when even the hard limit is too low:
    a server that runs out of descriptors under load fails every subscriber, and the intake with it, so
    it is refused at start-up rather than discovered then. Where ``resource`` does not exist, nothing is checked.
    """
    needed = fds_needed(s)
    try:
        import resource
    except ImportError:  # not POSIX
        return needed, needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed, soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise TransportError(
            f"limite de descripteurs de fichiers trop basse pour le serveur SFTP: {hard} (maximum du système), "
            f"il en faut {needed} = max_connections {s.max_connections} × (max_open_handles "
            f"{s.max_open_handles} + {FDS_PER_CONNECTION}) + {FDS_RESERVE}; relevez LimitNOFILE (systemd) "
            f"ou ulimit -n, ou baissez sftp.max_connections / sftp.max_open_handles",
            endpoint=f"{s.host}:{s.port}",
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed, needed


__all__ = ["Admission", "Caps", "HandleBudget", "address_key", "ensure_fd_limit", "fds_needed"]
