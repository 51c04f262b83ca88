"""Remote mode: subscribers' inboxes and outboxes on an existing SFTP server (OpenSSH, SFTPGo).

- Strict host-key checking against a pinned ``known_hosts`` file only: an unknown or changed key is refused
  (never added), no agent, no keys from ``~/.ssh``; such refusals are not retried.
- One persistent connection, reused and re-opened after a failure; connection problems are retried with
  exponential backoff, file-level errors are not.
- Listing follows the spec's completion rules (:mod:`gateway.transport.names`), with the settle time measured
  on our clock (the server's clock is not trusted).
- :meth:`SftpTransport.fetch` downloads into a local temporary file under a generated name, checks the
  size against the remote file and the SHA-256 against a re-read of the local copy; the remote file is
  removed or archived only by :meth:`SftpTransport.ack`, after the caller committed it.
- :meth:`SftpTransport.publish` uploads as a hidden ``.NAME.<random>.part`` then renames
  (``posix-rename@openssh.com`` when the server offers it, else remove + rename).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import posixpath
import secrets
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import paramiko
from paramiko.message import Message
from paramiko.sftp import CMD_INIT, CMD_VERSION, SFTPError
from paramiko.ssh_exception import NoValidConnectionsError

from gateway.errors import TransportError
from gateway.log import get_logger
from gateway.transport import Fetched, Incoming, safe_relpath
from gateway.transport.hostkey import fingerprint
from gateway.transport.local import check_subscriber, hash_local
from gateway.transport.names import Seen, Settler, is_done_marker, marker_for

log = get_logger(__name__)
T = TypeVar("T")
_POSIX_RENAME = "posix-rename@openssh.com"
_CHUNK = 1 << 20
_PREFETCH_ABOVE = 1 << 20


@dataclass(frozen=True)
class RemoteEndpoint:
    """Where and how to reach the remote SFTP server. Path templates take ``{subscriber}``."""

    host: str
    user: str
    key_file: Path
    known_hosts: Path
    port: int = 22
    inbox: str = "/inbox/{subscriber}"
    outbox: str = "/outbox/{subscriber}"
    archive: str = ""  # empty: taken files are removed; else moved there (e.g. "/archive/{subscriber}")
    settle_seconds: float = 5.0
    connect_timeout: float = 15.0
    operation_timeout: float = 60.0
    retries: int = 3
    backoff_seconds: float = 0.5
    fsync: bool = True  # downloaded bytes on disk before fetch() returns (the remote copy is removed after)


class _Refused(Exception):
    """A refusal that retrying cannot cure (host key, authentication)."""


class _PinnedOnly(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _Refused(
            f"hôte {hostname} absent du known_hosts épinglé (clé présentée {key.get_name()} {fingerprint(key)})"
        )


class _Client(paramiko.SFTPClient):
    """Paramiko's client, keeping the extensions the server announces (paramiko drops them)."""

    extensions: dict[str, bytes]

    def _send_version(self) -> int:
        m = Message()
        m.add_int(3)
        self._send_packet(CMD_INIT, m)
        t, data = self._read_packet()
        if t != CMD_VERSION:
            raise SFTPError("Incompatible sftp protocol")
        msg = Message(data)
        version = msg.get_int()
        self.extensions = {}
        while msg.get_remainder():
            name = msg.get_text()
            self.extensions[name] = msg.get_binary()
        return version


def _is_connection_problem(exc: BaseException) -> bool:
    connection_errors = (EOFError, paramiko.SSHException, socket.timeout, ConnectionError, NoValidConnectionsError)
    if isinstance(exc, connection_errors):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET, errno.ETIMEDOUT, errno.EHOSTUNREACH)


def _check_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise TransportError(f"nom de fichier distant refusé: {name!r}")
    return name


class SftpTransport:
    """A :class:`gateway.transport.Transport` over one persistent SFTP connection."""

    def __init__(
        self,
        remote: RemoteEndpoint,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remote = remote
        self.endpoint = f"sftp://{remote.user}@{remote.host}:{remote.port}"
        self._sleep = sleep
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: _Client | None = None
        self._lock = threading.RLock()
        self._settler = Settler(remote.settle_seconds, trust_mtime=False, monotonic=monotonic)
        self._markers: dict[str, set[str]] = {}
        self._made_dirs: set[str] = set()

    # Connection ------------------------------------------------------------------------------------
    def _connect(self) -> _Client:
        r = self.remote
        ssh = paramiko.SSHClient()
        try:
            # Only the pinned file: not ~/.ssh/known_hosts, and nothing is ever written back.
            ssh.get_host_keys().load(str(r.known_hosts))
        except OSError as exc:
            raise TransportError(f"known_hosts illisible: {r.known_hosts}: {exc.strerror}", endpoint=self.endpoint) from exc
        ssh.set_missing_host_key_policy(_PinnedOnly())
        try:
            # Our own socket, for TCP_NODELAY: without it every small request waits on Nagle and the
            # delayed ACK, and small files come 5 times slower.
            sock = socket.create_connection((r.host, r.port), timeout=r.connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            ssh.close()
            raise ConnectionError(f"connexion à {r.host}:{r.port} impossible: {exc.strerror or exc}") from exc
        try:
            ssh.connect(
                r.host,
                port=r.port,
                sock=sock,
                username=r.user,
                key_filename=str(r.key_file),
                timeout=r.connect_timeout,
                banner_timeout=r.connect_timeout,
                auth_timeout=r.connect_timeout,
                channel_timeout=r.connect_timeout,
                allow_agent=False,
                look_for_keys=False,
            )
            transport = ssh.get_transport()
            assert transport is not None
            transport.set_keepalive(30)
            sftp = _Client.from_transport(transport)
            if sftp is None:
                raise paramiko.SSHException("canal SFTP refusé")
            sftp.get_channel().settimeout(r.operation_timeout)
        except BaseException:
            ssh.close()
            raise
        self._ssh, self._sftp = ssh, sftp
        log.info("sftp.remote.connected", endpoint=self.endpoint)
        return sftp

    @property
    def connected(self) -> bool:
        """A connection is held (it is dropped on connection problems and refusals, not on file errors)."""
        return self._ssh is not None

    def _drop(self) -> None:
        if self._ssh is not None:
            self._ssh.close()
        self._ssh = self._sftp = None
        self._made_dirs.clear()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _call(self, what: str, op: Callable[[_Client], T]) -> T:
        """Run ``op`` on the connection, reconnecting and retrying with backoff on connection problems."""
        with self._lock:
            attempt = 0
            while True:
                try:
                    sftp = self._sftp
                    transport = self._ssh.get_transport() if self._ssh else None
                    if sftp is None or transport is None or not transport.is_active():
                        self._drop()
                        sftp = self._connect()
                    return op(sftp)
                except _Refused as exc:
                    self._drop()
                    raise TransportError(str(exc), endpoint=self.endpoint) from None
                except paramiko.BadHostKeyException as exc:
                    self._drop()
                    raise TransportError(
                        f"clé d'hôte CHANGÉE pour {exc.hostname}: présentée {fingerprint(exc.key)}, "
                        f"épinglée {fingerprint(exc.expected_key)} — connexion refusée",
                        endpoint=self.endpoint,
                    ) from None
                except paramiko.AuthenticationException as exc:
                    self._drop()
                    raise TransportError(f"authentification refusée: {exc}", endpoint=self.endpoint) from None
                except TransportError:
                    raise
                except Exception as exc:
                    if not _is_connection_problem(exc):
                        raise
                    self._drop()
                    if attempt >= self.remote.retries:
                        raise TransportError(
                            f"{what}: connexion en échec après {attempt + 1} tentatives: {exc or type(exc).__name__}",
                            endpoint=self.endpoint,
                        ) from exc
                    delay = self.remote.backoff_seconds * (2**attempt)
                    log.warning("sftp.remote.retry", endpoint=self.endpoint, what=what, attempt=attempt + 1, delay=delay)
                    self._sleep(delay)
                    attempt += 1

    def _file_error(self, what: str, exc: OSError) -> TransportError:
        return TransportError(f"{what}: {exc.strerror or exc}", endpoint=self.endpoint)

    # Paths -----------------------------------------------------------------------------------------
    def _dir(self, template: str, subscriber: str) -> str:
        return posixpath.normpath(template.format(subscriber=check_subscriber(subscriber)))

    # Intake ----------------------------------------------------------------------------------------
    def list_complete(self, subscriber: str) -> list[Incoming]:
        folder = self._dir(self.remote.inbox, subscriber)

        def op(sftp: _Client) -> list[paramiko.SFTPAttributes]:
            try:
                return sftp.listdir_attr(folder)
            except FileNotFoundError:
                return []

        try:
            listing = self._call("liste", op)
        except OSError as exc:
            if isinstance(exc, TransportError):
                raise
            raise self._file_error(f"liste de {folder}", exc) from exc
        seen = [
            Seen(a.filename, a.st_size or 0, float(a.st_mtime or 0))
            for a in listing
            if a.st_mode is not None and stat.S_ISREG(a.st_mode)
        ]
        self._markers[subscriber] = {s.name[: -len(".done")] for s in seen if is_done_marker(s.name)}
        ready = self._settler.complete(subscriber, seen)
        return [Incoming(subscriber, e.name, e.size, e.mtime) for e in ready]

    def fetch(self, item: Incoming, workdir: Path) -> Fetched | None:
        """Download; None if the file is gone or changed since listing (it will be listed and settled again)."""
        remote_path = posixpath.join(self._dir(self.remote.inbox, item.subscriber), _check_name(item.name))
        workdir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(8)
        partial = workdir / f".download-{token}.part"
        final = workdir / f"upload-{token}"

        def op(sftp: _Client) -> tuple[int, str] | None:
            try:
                fh = sftp.open(remote_path, "rb")
            except FileNotFoundError:
                return None
            digest = hashlib.sha256()
            size = 0
            with fh, open(partial, "wb") as out:
                if item.size > _PREFETCH_ABOVE:
                    fh.prefetch(item.size)  # parallel reads; a thread each time, so not for small files
                # Read exactly the listed size (no extra round trip to meet EOF); the fstat below catches growth.
                while size < item.size and (block := fh.read(min(_CHUNK, item.size - size))):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
                after = fh.stat()
                out.flush()
                if self.remote.fsync:
                    os.fsync(out.fileno())
            if after.st_mode is None or not stat.S_ISREG(after.st_mode):
                return None
            if size != item.size or after.st_size != item.size or int(after.st_mtime or 0) != int(item.mtime):
                return None  # written to since it was listed: not complete after all
            return size, digest.hexdigest()

        try:
            result = self._call("téléchargement", op)
        except TransportError:
            partial.unlink(missing_ok=True)
            raise
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise self._file_error(f"téléchargement de {item.name!r}", exc) from exc
        if result is None:
            partial.unlink(missing_ok=True)
            self._settler.forget(item.subscriber, item.name)
            return None
        size, digest = result
        # Re-read what landed on our disk: the bytes we commit are the bytes we hashed.
        local_size, local_digest = hash_local(partial)
        if (local_size, local_digest) != (size, digest):
            partial.unlink(missing_ok=True)
            raise TransportError(f"copie locale de {item.name!r} altérée", endpoint=self.endpoint)
        os.rename(partial, final)
        return Fetched(item, final, size, digest, remote_path)

    def ack(self, fetched: Fetched) -> None:
        """Remove (or archive) the remote file and its ``.done`` marker; already gone is fine."""
        item = fetched.incoming
        remote_path = fetched.source
        marker = marker_for(remote_path) if item.name in self._markers.get(item.subscriber, set()) else None
        archive = self._dir(self.remote.archive, item.subscriber) if self.remote.archive else None

        def op(sftp: _Client) -> None:
            try:
                if archive:
                    self._makedirs(sftp, archive)
                    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
                    self._rename(sftp, remote_path, posixpath.join(archive, f"{stamp}-{secrets.token_hex(3)}-{item.name}"))
                else:
                    sftp.remove(remote_path)
            except FileNotFoundError:
                pass  # a retry after the first attempt succeeded
            if marker:
                try:
                    sftp.remove(marker)
                except FileNotFoundError:
                    pass

        try:
            self._call("acquittement", op)
        except TransportError:
            raise
        except OSError as exc:
            raise self._file_error(f"retrait de {item.name!r}", exc) from exc
        self._settler.forget(item.subscriber, item.name)

    # Delivery --------------------------------------------------------------------------------------
    def _makedirs(self, sftp: _Client, folder: str) -> None:
        if folder in self._made_dirs:
            return
        parts = [p for p in folder.split("/") if p]
        for i in range(1, len(parts) + 1):
            path = ("/" if folder.startswith("/") else "") + "/".join(parts[:i])
            try:
                st = sftp.stat(path)
                if st.st_mode is not None and not stat.S_ISDIR(st.st_mode):
                    raise TransportError(f"{path} n'est pas un dossier", endpoint=self.endpoint)
            except FileNotFoundError:
                sftp.mkdir(path)
        self._made_dirs.add(folder)

    def _rename(self, sftp: _Client, old: str, new: str) -> None:
        if _POSIX_RENAME in sftp.extensions:
            sftp.posix_rename(old, new)
            return
        # SFTP v3 rename refuses to overwrite: remove first (a reader may briefly see no file, never a part).
        try:
            sftp.remove(new)
        except FileNotFoundError:
            pass
        sftp.rename(old, new)

    def publish(self, subscriber: str, relpath: str, source: Path) -> None:
        rel = safe_relpath(relpath)
        folder = self._dir(self.remote.outbox, subscriber)
        if rel.parent.parts:
            folder = posixpath.join(folder, *rel.parent.parts)
        target = posixpath.join(folder, rel.name)
        size = source.stat().st_size

        def op(sftp: _Client) -> None:
            self._makedirs(sftp, folder)
            partial = posixpath.join(folder, f".{rel.name}.{secrets.token_hex(4)}.part")
            try:
                with open(source, "rb") as fh:
                    attrs = sftp.putfo(fh, partial, file_size=size, confirm=True)
                if attrs.st_size != size:
                    raise TransportError(f"taille distante inattendue pour {relpath}", endpoint=self.endpoint)
                self._rename(sftp, partial, target)
            except BaseException:
                # Best effort: a leftover hidden .part is harmless, the original error is what matters.
                with contextlib.suppress(Exception):
                    sftp.remove(partial)
                raise

        try:
            self._call("dépôt", op)
        except TransportError:
            raise
        except OSError as exc:
            raise self._file_error(f"dépôt de {relpath}", exc) from exc

    def remove(self, subscriber: str, relpath: str) -> None:
        target = posixpath.join(self._dir(self.remote.outbox, subscriber), str(safe_relpath(relpath)))

        def op(sftp: _Client) -> None:
            try:
                sftp.remove(target)
            except FileNotFoundError:
                pass

        try:
            self._call("suppression", op)
        except TransportError:
            raise
        except OSError as exc:
            raise self._file_error(f"suppression de {relpath}", exc) from exc


__all__ = ["RemoteEndpoint", "SftpTransport"]
