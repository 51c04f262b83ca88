"""The SFTP requests of one subscriber's session, served from its :class:`~gateway.transport.vfs.Tree`.

- ``/inbox`` is writable, flat: uploads go to a hidden ``.upload-<random>.part`` file and are published
  under their name only when the client sends the SFTP ``close`` request. Paramiko also closes every
  handle left open when a session drops; those closes do not come from a ``close`` request, so the
  temporary file is discarded and an upload cut off mid-way never appears.
- Publishing never overwrites: if the name is taken (an earlier upload not yet collected), the file is
  published as ``NAME (2).ext`` (``decl (2).test.csv``), so no submission is ever lost.
- ``/outbox`` is read-only; its dotfiles (the gateway's own temporary files) are invisible.
- Files read and uploads in progress are the handles of :mod:`gateway.transport.sftp_files`.
- SETSTAT/FSETSTAT never change mode or owner (ignored) and never change a size (refused): paramiko's
  default helper would truncate a file when asked for a size.
- No links of any kind, no folders created or removed, no extension but ``posix-rename@openssh.com``.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Protocol

import paramiko
from paramiko.message import Message
from paramiko.sftp import (
    CMD_CLOSE,
    CMD_EXTENDED,
    CMD_INIT,
    CMD_OPEN,
    CMD_OPENDIR,
    CMD_VERSION,
    SFTP_BAD_MESSAGE,
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
    SFTPError,
)

from gateway.log import get_logger
from gateway.transport.auth import Account
from gateway.transport.limits import HandleBudget
from gateway.transport.names import is_candidate
from gateway.transport.sftp_files import (
    ReadHandle,
    SessionPolicy,
    UploadHandle,
    check_attr_change,
    file_attrs,
)
from gateway.transport.vfs import (
    UPLOAD_PREFIX,
    Area,
    Refused,
    Resolved,
    Tree,
    check_upload_name,
    denied,
    missing,
)

log = get_logger(__name__)

_CODES = {
    "missing": SFTP_NO_SUCH_FILE,
    "denied": SFTP_PERMISSION_DENIED,
    "failure": SFTP_FAILURE,
    "unsupported": SFTP_OP_UNSUPPORTED,
}
_SFTP_VERSION = 3
_POSIX_RENAME = "posix-rename@openssh.com"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR


class SessionHost(Protocol):
    """What the SSH layer hands to each SFTP session (see ``sftp_server.Connection``)."""

    account: Account | None
    policy: SessionPolicy
    handles: HandleBudget  # the connection's open handles, all its channels together

    def touch(self) -> None:
        """Activity seen: pushes the idle timeout back."""
        ...


def _root_attrs(name: str | None = None) -> paramiko.SFTPAttributes:
    attr = paramiko.SFTPAttributes()
    attr.st_mode = stat.S_IFDIR | 0o555
    attr.st_size = 0
    attr.st_atime = attr.st_mtime = 0
    if name is not None:
        attr.filename = name
    return attr


def _hidden(area: Area, name: str) -> bool:
    """Entries a subscriber never sees: uploads in progress, and the gateway's temporary outbox files."""
    return name.startswith(UPLOAD_PREFIX) if area is Area.INBOX else name.startswith(".")


class GatewaySFTP(paramiko.SFTPServerInterface):
    """One SFTP session (one channel) of an authenticated subscriber."""

    def __init__(self, server: SessionHost, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        if server.account is None:  # the SSH layer opens channels only after authentication
            raise RuntimeError("session SFTP sans compte authentifié")
        self.host = server
        self.account: Account = server.account
        self.subscriber = self.account.subscriber
        self.policy = server.policy
        # A subscriber created since the last run may have no folders yet: its tree exists from its first login.
        for folder in (self.account.inbox, self.account.outbox):
            os.makedirs(folder, mode=0o750, exist_ok=True)
        self.tree = Tree(self.account)
        self.bytes_written = 0

    # Paths ------------------------------------------------------------------------------------------
    def canonicalize(self, path: str) -> str:
        return self.tree.resolve(path).virtual

    def _entry(self, path: str) -> tuple[Resolved, os.stat_result | None]:
        """Resolve and lstat; hidden, linked and special entries do not exist for the client."""
        r = self.tree.resolve(path)
        if r.area is Area.ROOT:
            return r, None
        assert r.real is not None
        if any(_hidden(r.area, p) for p in r.parts):
            raise missing()
        try:
            st = os.lstat(r.real)
        except FileNotFoundError:
            raise missing() from None
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise missing()
        return r, st

    def stat(self, path: str) -> paramiko.SFTPAttributes:
        r, st = self._entry(path)
        return _root_attrs() if st is None else file_attrs(st, None, r.area)

    lstat = stat  # links are never followed, so both answer the same

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes]:
        r, st = self._entry(path)
        if st is None:
            return [_root_attrs("inbox"), _root_attrs("outbox")]
        if not stat.S_ISDIR(st.st_mode):
            raise Refused("failure", "pas un dossier")
        out = []
        with os.scandir(r.real) as it:
            for de in it:
                if _hidden(r.area, de.name):
                    continue
                try:
                    est = de.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(est.st_mode) or stat.S_ISDIR(est.st_mode):
                    out.append(file_attrs(est, de.name, r.area))
        return out

    # Reading and uploading --------------------------------------------------------------------------
    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle:
        if flags & _WRITE_FLAGS:
            return self._open_upload(self.tree.resolve(path), flags)
        r, st = self._entry(path)
        if st is None or not stat.S_ISREG(st.st_mode):
            raise Refused("failure", "pas un fichier")
        # O_NONBLOCK: a FIFO swapped in since the lstat must not hang the session (fstat refuses it next).
        fd = os.open(r.real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # type: ignore[arg-type]
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise missing()
        return ReadHandle(fd, r.area)

    def _uploads_allowed(self, name: str) -> None:
        if not self.account.uploads_allowed and name not in self.policy.always_accepted:
            raise denied(self.account.reason or "dépôts refusés pour cet abonné")

    def _inbox_name(self, r: Resolved) -> str:
        if r.area is Area.OUTBOX:
            raise denied("/outbox est en lecture seule")
        if r.area is not Area.INBOX or len(r.parts) != 1:
            raise denied("les dépôts se font directement dans /inbox")
        return check_upload_name(r.name)

    def _open_upload(self, r: Resolved, flags: int) -> UploadHandle:
        name = self._inbox_name(r)
        self._uploads_allowed(name)
        assert r.real is not None
        try:
            st: os.stat_result | None = os.lstat(r.real)
        except FileNotFoundError:
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise denied("pas un fichier")
        if st is not None and flags & os.O_EXCL:
            raise Refused("failure", "le fichier existe déjà")
        if st is None and not flags & os.O_CREAT:
            raise missing()
        if flags & os.O_APPEND or (st is not None and not flags & os.O_TRUNC):
            # Every upload is a new whole file published at close; resuming into a live name cannot be atomic.
            raise Refused("unsupported", "reprise ou ajout non pris en charge: déposez le fichier entier")
        return UploadHandle(self, r.real.parent, name)

    # Changes ----------------------------------------------------------------------------------------
    def _inbox_file(self, path: str) -> tuple[Resolved, str]:
        r, st = self._entry(path)
        name = self._inbox_name(r)
        if st is None or not stat.S_ISREG(st.st_mode):
            raise Refused("failure", "pas un fichier")
        return r, name

    def remove(self, path: str) -> int:
        r, _ = self._inbox_file(path)
        os.unlink(r.real)  # type: ignore[arg-type]
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        return self._rename(oldpath, newpath, replace=False)

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return self._rename(oldpath, newpath, replace=True)

    def _rename(self, oldpath: str, newpath: str, *, replace: bool) -> int:
        old, _ = self._inbox_file(oldpath)
        new = self.tree.resolve(newpath)
        name = self._inbox_name(new)
        self._uploads_allowed(name)
        assert old.real is not None and new.real is not None
        if replace:
            if os.path.lexists(new.real) and not stat.S_ISREG(os.lstat(new.real).st_mode):
                raise denied("pas un fichier")
            os.replace(old.real, new.real)
        else:
            try:
                os.link(old.real, new.real, follow_symlinks=False)  # SFTP v3 rename never overwrites
            except FileExistsError:
                raise Refused("failure", "le fichier existe déjà") from None
            os.unlink(old.real)
        self.host_uploaded(name)
        return SFTP_OK

    def host_uploaded(self, name: str) -> None:
        """Tell the gateway (intake) at once; its failure must never fail the client's request."""
        log.info("sftp.upload.published", subscriber=self.subscriber, name=name)
        callback = self.policy.on_upload
        if callback is None or not is_candidate(name):
            return
        try:
            callback(self.subscriber, name)
        except Exception:
            log.exception("sftp.on_upload.failed", subscriber=self.subscriber, name=name)

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        r, st = self._entry(path)
        if r.area is not Area.INBOX or st is None:
            raise denied("lecture seule")
        return check_attr_change(attr)

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        raise denied("création de dossier interdite")

    def rmdir(self, path: str) -> int:
        raise denied("suppression de dossier interdite")

    def symlink(self, target_path: str, path: str) -> int:
        raise denied("liens interdits")

    def readlink(self, path: str) -> str | int:
        raise missing()


class GatewaySFTPServer(paramiko.SFTPServer):
    """Paramiko's SFTP subsystem, with the requests that decide safety handled here.

    ``close`` is taken over so that publishing an upload happens only on a real ``close`` request (the
    handles paramiko closes itself at the end of a dropped session are discarded); refusals carry a
    message to the client; extensions other than posix-rename are refused (no ``check-file`` hashing,
    no ``hardlink@openssh.com``); open handles are capped per connection, every channel together (a cap
    per channel would let one connection hold channels × cap descriptors).
    """

    server: GatewaySFTP

    def __init__(self, channel: paramiko.Channel, name: str, server: SessionHost, *args: Any, **kwargs: Any) -> None:
        super().__init__(channel, name, server, *args, **kwargs)
        self.budget = server.handles
        self.budget.attach(id(self), lambda: len(self.file_table) + len(self.folder_table))

    def finish_subsystem(self) -> None:
        try:
            super().finish_subsystem()  # closes (and so discards) what the session left open
        finally:
            self.budget.detach(id(self))

    def _send_server_version(self) -> int:
        t, data = self._read_packet()
        if t != CMD_INIT:
            raise SFTPError("Incompatible sftp protocol")
        msg = Message()
        msg.add_int(_SFTP_VERSION)
        msg.add_string(_POSIX_RENAME)
        msg.add_string("1")
        self._send_packet(CMD_VERSION, msg)
        return int.from_bytes(data[:4], "big")

    def _process(self, t: int, request_number: int, msg: Message) -> None:
        session = self.server
        session.host.touch()
        try:
            if t == CMD_CLOSE:
                self._close(request_number, msg.get_binary())
                return
            if t in (CMD_OPEN, CMD_OPENDIR):
                with self.budget.reserve() as room:
                    if not room:
                        raise Refused("failure", f"trop de fichiers ouverts sur cette connexion "
                                                 f"(maximum {self.budget.limit})")
                    super()._process(t, request_number, msg)
                return
            if t == CMD_EXTENDED:
                peek = Message(msg.asbytes())
                peek.get_int()
                if peek.get_text() != _POSIX_RENAME:
                    raise Refused("unsupported", "extension non prise en charge")
            super()._process(t, request_number, msg)
        except Refused as refusal:
            self._send_status(request_number, _CODES[refusal.kind], refusal.message)
        except UnicodeDecodeError:
            self._send_status(request_number, SFTP_FAILURE, "nom non UTF-8")
        except OSError as exc:
            code = self.convert_errno(exc.errno)
            if code == SFTP_FAILURE:
                log.warning("sftp.os_error", subscriber=session.subscriber, errno=exc.errno)
            self._send_status(request_number, code, os.strerror(exc.errno) if exc.errno else "erreur")

    def _close(self, request_number: int, handle: bytes) -> None:
        if handle in self.folder_table:
            del self.folder_table[handle]
            self._send_status(request_number, SFTP_OK)
            return
        opened = self.file_table.pop(handle, None)
        if opened is None:
            self._send_status(request_number, SFTP_BAD_MESSAGE, "Invalid handle")
            return
        if isinstance(opened, UploadHandle):
            name = opened.publish()
            self.server.host_uploaded(name)
        else:
            opened.close()
        self._send_status(request_number, SFTP_OK)


__all__ = ["GatewaySFTP", "GatewaySFTPServer", "ReadHandle", "SessionHost", "SessionPolicy", "UploadHandle"]
