"""Who may log in to the built-in SFTP server: the seam between the server and the store.

The server knows nothing of the database. It asks an :class:`Authenticator` (the store's implementation
lives with the store; :class:`MemoryAuthenticator` serves tests and benchmarks) and receives an
:class:`Account`, or None for every refusal: unknown subscriber, wrong password, unregistered key,
disabled subscriber. One answer for all of them, so nothing can be learnt from it.

Contract for implementations of :meth:`Authenticator.password`: take the same time whether or not the
subscriber exists (verify against a dummy hash for unknown ones, ``gateway.security.dummy_verify``).
The server adds a floor on top (every failure answers after the same minimum delay).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Account:
    """A subscriber allowed in, and the two folders it sees as ``/inbox`` and ``/outbox``."""

    subscriber: str
    inbox: Path
    outbox: Path
    uploads_allowed: bool = True
    reason: str | None = None  # why uploads are refused (e-mail address not verified yet), shown to the client


@runtime_checkable
class Authenticator(Protocol):
    def password(self, username: str, password: str) -> Account | None:
        """The account if ``username`` is an enabled subscriber and ``password`` is its password."""
        ...

    def public_key(self, username: str, key_type: str, key_blob: bytes) -> Account | None:
        """The account if the key (type like ``ssh-ed25519``, raw SSH wire blob) is registered for it."""
        ...


@dataclass
class _Entry:
    account: Account
    password: str | None
    keys: set[tuple[str, bytes]] = field(default_factory=set)
    disabled: bool = False


class MemoryAuthenticator:
    """An in-memory :class:`Authenticator` for tests and benchmarks (passwords kept as SHA-256 only)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def add(
        self,
        account: Account,
        *,
        password: str | None = None,
        keys: tuple[tuple[str, bytes], ...] = (),
        disabled: bool = False,
    ) -> None:
        digest = hashlib.sha256(password.encode()).hexdigest() if password is not None else None
        with self._lock:
            self._entries[account.subscriber] = _Entry(account, digest, set(keys), disabled)

    def set_disabled(self, subscriber: str, disabled: bool) -> None:
        with self._lock:
            self._entries[subscriber].disabled = disabled

    def password(self, username: str, password: str) -> Account | None:
        given = hashlib.sha256(password.encode()).hexdigest()
        with self._lock:
            entry = self._entries.get(username)
        stored = entry.password if entry and entry.password else "0" * 64
        ok = hmac.compare_digest(given, stored)  # compared even for unknown names: same work either way
        if entry is None or entry.disabled or entry.password is None or not ok:
            return None
        return entry.account

    def public_key(self, username: str, key_type: str, key_blob: bytes) -> Account | None:
        with self._lock:
            entry = self._entries.get(username)
        if entry is None or entry.disabled or (key_type, key_blob) not in entry.keys:
            return None
        return entry.account


__all__ = ["Account", "Authenticator", "MemoryAuthenticator"]
