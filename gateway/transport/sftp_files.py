"""The open files of an SFTP session: files read, uploads in progress, and the policy they obey.

An upload is written to a hidden ``.upload-<random>.part`` file (created with ``O_EXCL | O_NOFOLLOW``) and
published under its name by :meth:`UploadHandle.publish` only on the client's ``close`` request; a handle
closed any other way (paramiko closing what a dropped session left open) discards its temporary file.
What a session may open is decided in :mod:`gateway.transport.sftp_fs`.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import paramiko
from paramiko.sftp import SFTP_FAILURE, SFTP_OK, SFTP_OP_UNSUPPORTED

from gateway.log import get_logger
from gateway.transport.names import non_colliding
from gateway.transport.vfs import UPLOAD_PREFIX, Area, Refused, denied

log = get_logger(__name__)


@dataclass(frozen=True)
class SessionPolicy:
    """Limits and hooks shared by every session of one server."""

    max_open_handles: int = 32
    max_file_bytes: int = 50 * 1024 * 1024
    max_session_bytes: int = 1024 * 1024 * 1024
    fsync: bool = True
    # Accepted even from a subscriber whose uploads are refused: the e-mail verification proof (daemon issue).
    always_accepted: frozenset[str] = frozenset({"email-verification.txt"})
    on_upload: Callable[[str, str], None] | None = field(default=None, compare=False)


class UploadSession(Protocol):
    """What an upload needs from its SFTP session (``sftp_fs.GatewaySFTP``)."""

    subscriber: str
    policy: SessionPolicy
    bytes_written: int


def file_attrs(st: os.stat_result, name: str | None, area: Area) -> paramiko.SFTPAttributes:
    """What a client is shown: type, size, times and a permission that tells what it may do. No uid/gid."""
    attr = paramiko.SFTPAttributes()
    writable = area is Area.INBOX
    if stat.S_ISDIR(st.st_mode):
        attr.st_mode = stat.S_IFDIR | (0o755 if writable else 0o555)
    else:
        attr.st_mode = stat.S_IFREG | (0o644 if writable else 0o444)
    attr.st_size = st.st_size
    attr.st_atime = int(st.st_atime)
    attr.st_mtime = int(st.st_mtime)
    if name is not None:
        attr.filename = name
    return attr



def check_attr_change(attr: paramiko.SFTPAttributes) -> int:
    if attr._flags & attr.FLAG_SIZE:
        raise Refused("unsupported", "changement de taille refusé")
    return SFTP_OK  # mode, owner and times: accepted and ignored, so `put -p` does not fail


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReadHandle(paramiko.SFTPHandle):
    """A regular file opened for reading, without following links."""

    def __init__(self, fd: int, area: Area) -> None:
        super().__init__()
        self.fd: int | None = fd
        self.area = area

    def read(self, offset: int, length: int) -> bytes | int:
        if self.fd is None:
            return SFTP_FAILURE
        return os.pread(self.fd, min(length, 1 << 20), offset)

    def write(self, offset: int, data: bytes) -> int:
        raise denied("fichier ouvert en lecture seule")

    def stat(self) -> paramiko.SFTPAttributes | int:
        if self.fd is None:
            return SFTP_FAILURE
        return file_attrs(os.fstat(self.fd), None, self.area)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        if self.area is not Area.INBOX:
            raise denied("lecture seule")
        return check_attr_change(attr)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class UploadHandle(paramiko.SFTPHandle):
    """An upload in progress: a hidden temporary file, published under its name by :meth:`publish`."""

    def __init__(self, session: UploadSession, folder: Path, name: str) -> None:
        super().__init__()
        self.session = session
        self.folder = folder
        self.name = name
        self.temp = folder / f"{UPLOAD_PREFIX}{secrets.token_hex(8)}.part"
        # O_EXCL + O_NOFOLLOW: a fresh file of ours, never an existing file or a link planted there.
        self.fd: int | None = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self.size = 0
        self.failed = False

    def read(self, offset: int, length: int) -> bytes | int:
        return SFTP_OP_UNSUPPORTED

    def write(self, offset: int, data: bytes) -> int:
        if self.fd is None:
            return SFTP_FAILURE
        policy = self.session.policy
        end = offset + len(data)
        if end > policy.max_file_bytes:
            self.failed = True
            raise Refused("failure", f"fichier trop volumineux (maximum {policy.max_file_bytes} octets)")
        if self.session.bytes_written + len(data) > policy.max_session_bytes:
            self.failed = True
            raise Refused("failure", f"volume de la session dépassé (maximum {policy.max_session_bytes} octets)")
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written
        self.session.bytes_written += len(data)
        self.size = max(self.size, end)
        return SFTP_OK

    def stat(self) -> paramiko.SFTPAttributes | int:
        if self.fd is None:
            return SFTP_FAILURE
        return file_attrs(os.fstat(self.fd), None, Area.INBOX)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return check_attr_change(attr)

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        """Called by paramiko for handles still open when the session ends: an interrupted upload."""
        if self.fd is not None:
            log.info("sftp.upload.discarded", subscriber=self.session.subscriber, name=self.name, size=self.size)
        self.discard()

    def publish(self) -> str:
        """The client closed the file: make it appear under its name (or a free variant). Returns the name."""
        if self.fd is None:
            raise Refused("failure", "fichier déjà fermé")
        if self.failed:
            self.discard()
            raise Refused("failure", "dépôt incomplet: fichier abandonné")
        try:
            if self.session.policy.fsync:
                os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
            final, moved = self._link_under_free_name()
            if not moved:
                os.unlink(self.temp)
            if self.session.policy.fsync:
                fsync_dir(self.folder)
        except BaseException:
            self.discard()
            raise
        return final

    def _link_under_free_name(self) -> tuple[str, bool]:
        """Publish the temporary file under a free name; returns the name and whether it was moved."""
        # link() fails if the name exists: an atomic "publish unless taken", so nothing is overwritten.
        for n in range(1, 1000):
            candidate = self.name if n == 1 else non_colliding(self.name, n)
            try:
                os.link(self.temp, self.folder / candidate, follow_symlinks=False)
                return candidate, False
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    raise Refused("failure", "nom trop long") from exc
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                    raise
                # A file system without hard links: check then rename (a tiny race, same outcome).
                if not os.path.lexists(self.folder / candidate):
                    os.rename(self.temp, self.folder / candidate)
                    return candidate, True
        raise Refused("failure", "trop de fichiers de ce nom en attente")


__all__ = ["ReadHandle", "SessionPolicy", "UploadHandle", "UploadSession", "check_attr_change", "file_attrs", "fsync_dir"]
