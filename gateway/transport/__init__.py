"""Moving files between subscribers and the gateway: one seam, two implementations.

- :class:`gateway.transport.local.LocalTransport`: the embedded default, inbox and outbox folders on this
  machine (filled by the built-in SFTP server, :mod:`gateway.transport.sftp_server`);
- :class:`gateway.transport.sftp_client.SftpTransport`: remote mode, polling an existing SFTP server.

Taking a file is two steps so nothing is lost: :meth:`Transport.fetch` brings the bytes into a local
file with a generated name (the uploaded name is metadata, never a path), the caller records it, then
:meth:`Transport.ack` makes the source forget it (removes or archives it). Paramiko is imported only in
this package; every failure surfaces as :class:`gateway.errors.TransportError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from gateway.errors import TransportError


@dataclass(frozen=True)
class Incoming:
    """A complete file waiting in a subscriber's inbox."""

    subscriber: str
    name: str  # as uploaded: metadata only, never used as a local path
    size: int
    mtime: float


@dataclass(frozen=True)
class Fetched:
    """The bytes of an :class:`Incoming` file, now in a local file the caller owns."""

    incoming: Incoming
    path: Path  # generated local name inside the caller's work folder
    size: int
    sha256: str
    source: str  # where it came from (for ack and logs): a local path or a remote path


@runtime_checkable
class Transport(Protocol):
    """What intake and delivery need from wherever subscribers' files live."""

    endpoint: str  # a human name for logs and errors, e.g. "local:/srv/gateway" or "sftp://host:22"

    def list_complete(self, subscriber: str) -> list[Incoming]:
        """Complete files in the subscriber's inbox (spec rules), oldest first."""
        ...

    def fetch(self, item: Incoming, workdir: Path) -> Fetched | None:
        """Bring the bytes into ``workdir`` under a generated name; None if the file is gone (taken)."""
        ...

    def ack(self, fetched: Fetched) -> None:
        """The caller committed the file: the source forgets it (and its ``.done`` marker)."""
        ...

    def publish(self, subscriber: str, relpath: str, source: Path) -> None:
        """Deliver a local file to ``outbox/<subscriber>/<relpath>``, atomically (never seen half-written)."""
        ...

    def remove(self, subscriber: str, relpath: str) -> None:
        """Remove a delivered file from the subscriber's outbox (retention); missing is not an error."""
        ...

    def close(self) -> None: ...


def safe_relpath(relpath: str) -> PurePosixPath:
    """An outbox path chosen by the gateway, checked anyway: relative, no ``..``, no NUL or backslash."""
    if not relpath or "\x00" in relpath or "\\" in relpath or relpath.startswith("/"):
        raise TransportError(f"chemin de dépôt refusé: {relpath!r}")
    parts = PurePosixPath(relpath).parts
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise TransportError(f"chemin de dépôt refusé: {relpath!r}")
    return PurePosixPath(*parts)


__all__ = ["Fetched", "Incoming", "Transport", "safe_relpath"]
