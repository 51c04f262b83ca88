"""Local folders: ``inbox/<subscriber>/`` and ``outbox/<subscriber>/`` on this machine (embedded default).

Fetching is the claim: an atomic ``rename`` out of the inbox into the caller's work folder, so two intake
processes never take the same file (the second rename finds nothing and :meth:`fetch` returns None).
:meth:`ack` then only removes the ``NAME.done`` marker. Only regular files are taken; links are never
followed (``lstat``, ``O_NOFOLLOW``).
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
import threading
from pathlib import Path

from gateway.errors import TransportError
from gateway.transport import Fetched, Incoming, safe_relpath
from gateway.transport.names import Seen, Settler, is_done_marker, marker_for

_SUBSCRIBER_CHARS = frozenset("0123456789")


def check_subscriber(subscriber: str) -> str:
    """Subscriber numbers are digits (spec: 5 to 10); anything else must never become a folder name."""
    if not subscriber or len(subscriber) > 32 or not set(subscriber) <= _SUBSCRIBER_CHARS:
        raise TransportError(f"numéro d'abonné invalide: {subscriber!r}")
    return subscriber


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hash_local(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a regular file, opened without following a link."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


class LocalTransport:
    """Inbox and outbox folders on this machine."""

    def __init__(self, inbox_root: Path, outbox_root: Path, *, settle_seconds: float = 5.0) -> None:
        self.inbox_root = Path(inbox_root)
        self.outbox_root = Path(outbox_root)
        self.endpoint = f"local:{self.inbox_root}"
        self._settler = Settler(settle_seconds, trust_mtime=True)
        self._lock = threading.Lock()  # the settler's memory is shared with the SFTP server's callback

    def inbox(self, subscriber: str) -> Path:
        return self.inbox_root / check_subscriber(subscriber)

    def outbox(self, subscriber: str) -> Path:
        return self.outbox_root / check_subscriber(subscriber)

    def _scan(self, folder: Path) -> list[Seen]:
        entries: list[Seen] = []
        try:
            with os.scandir(folder) as it:
                for de in it:
                    try:
                        st = de.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if stat.S_ISREG(st.st_mode):
                        entries.append(Seen(de.name, st.st_size, st.st_mtime))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise TransportError(f"lecture de {folder} impossible: {exc.strerror}", endpoint=self.endpoint) from exc
        return entries

    def release(self, subscriber: str, name: str) -> None:
        """The built-in server published ``name`` atomically: it is complete now, no settle time."""
        try:
            st = os.lstat(self.inbox(subscriber) / name)
        except OSError:
            return
        if stat.S_ISREG(st.st_mode):
            with self._lock:
                self._settler.release(subscriber, Seen(name, st.st_size, st.st_mtime))

    def list_complete(self, subscriber: str) -> list[Incoming]:
        entries = self._scan(self.inbox(subscriber))
        with self._lock:
            ready = self._settler.complete(subscriber, entries)
        return [Incoming(subscriber, e.name, e.size, e.mtime) for e in ready]

    def fetch(self, item: Incoming, workdir: Path) -> Fetched | None:
        source = self.inbox(item.subscriber) / item.name
        if "/" in item.name or item.name in (".", ".."):
            raise TransportError(f"nom de fichier refusé: {item.name!r}", endpoint=self.endpoint)
        workdir.mkdir(parents=True, exist_ok=True)
        target = workdir / f"upload-{secrets.token_hex(8)}"
        try:
            os.rename(source, target)  # the claim: atomic, exactly one taker wins
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TransportError(f"prise de {item.name!r} impossible: {exc.strerror}", endpoint=self.endpoint) from exc
        st = os.lstat(target)
        if not stat.S_ISREG(st.st_mode):
            # Swapped for a link or a special file between listing and claim: never read through it.
            os.unlink(target)
            raise TransportError(f"{item.name!r} n'est pas un fichier ordinaire", endpoint=self.endpoint)
        size, digest = hash_local(target)
        _fsync_dir(workdir)
        with self._lock:
            self._settler.forget(item.subscriber, item.name)
        return Fetched(item, target, size, digest, str(source))

    def ack(self, fetched: Fetched) -> None:
        marker = self.inbox(fetched.incoming.subscriber) / marker_for(fetched.incoming.name)
        try:
            if stat.S_ISREG(os.lstat(marker).st_mode):
                os.unlink(marker)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TransportError(f"suppression du marqueur impossible: {exc.strerror}", endpoint=self.endpoint) from exc

    def publish(self, subscriber: str, relpath: str, source: Path) -> None:
        target = self.outbox(subscriber) / safe_relpath(relpath)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
            with open(source, "rb") as src, open(tmp, "xb") as dst:
                while block := src.read(1 << 20):
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise TransportError(f"dépôt de {relpath} impossible: {exc.strerror}", endpoint=self.endpoint) from exc

    def remove(self, subscriber: str, relpath: str) -> None:
        target = self.outbox(subscriber) / safe_relpath(relpath)
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise TransportError(f"suppression de {relpath} impossible: {exc.strerror}", endpoint=self.endpoint) from exc

    def close(self) -> None:
        return None


__all__ = ["LocalTransport", "check_subscriber", "hash_local", "is_done_marker"]
