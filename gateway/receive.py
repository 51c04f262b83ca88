"""Receive: find complete uploads in ``inbox/<subscriber>/`` and claim each exactly once.

A file is complete when it is released by the SFTP server (``release``), by its ``NAME.done`` marker (see
:mod:`gateway.markers`), or when its size, modification and change times have not moved for the settle time.
Only regular files are taken: no symlink, FIFO or device is ever followed or opened. Names starting with
``.`` and the temporary suffixes of the spec are never taken. The uploaded name is kept as metadata only; on
disk the file gets a generated name.

Claiming is an atomic rename into ``jobs/<run>/incoming/<token>.held``, with a ``<token>.json`` sidecar
(subscriber, uploaded name, where it came from) written first. The held file is then copied, block by block
and hashed on the way, into ``<token>.data``, a file the gateway creates (read-only): that copy is the stored
original, so a writer still holding the old file open cannot change it afterwards. The claim is undone (the
file goes back to the inbox and waits to settle again) when a process still holds the file open for
writing, or when its size or times moved since it was judged complete, or while it was copied. A crash
at any point loses nothing: :func:`orphans` finds claimed files without a row on the next start, and puts
back held files whose copy never finished.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.files import DurableWrites
from gateway.holders import held_for_writing
from gateway.log import get_logger
from gateway.markers import read_marker

log = get_logger(__name__)

TEMP_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", ".crdownload")
DONE_SUFFIX = ".done"
HELD_SUFFIX = ".held"  # the renamed upload while its bytes are copied
PARKED_SUFFIX = ".parked"  # a held file that could not go back (its name was taken again meanwhile)
STORED_MODE = 0o444  # the stored original: nobody writes to it, not even the gateway
SPECIAL_NAMES = {"email-verification.txt"}
_SUBSCRIBER_DIR = re.compile(r"^[0-9]{5,10}$")


@dataclass(frozen=True)
class Stamp:
    """What a file looked like when it was judged complete: any difference later means it moved."""

    size: int
    mtime_ns: int
    device: int
    inode: int


@dataclass(frozen=True)
class Upload:
    """A complete file in a subscriber's inbox, not yet claimed."""

    subscriber: str
    name: str
    path: Path
    size: int
    marker: Path | None = None  # the NAME.done that released it, removed once claimed
    stamp: Stamp | None = None  # as seen by the scan; None: only the claim's own reading is compared
    sha256: str | None = None  # the content the marker announced, checked again on the copy


@dataclass(frozen=True)
class Claimed:
    """A file moved out of the inbox into a run folder: ours now, whatever happens."""

    subscriber: str
    name: str
    path: Path  # jobs/<run>/incoming/<token>.data
    meta: Path  # jobs/<run>/incoming/<token>.json
    claimed_at: float
    size: int | None = None  # of the stored bytes, hashed while they were copied (None: an older claim)
    sha256: str | None = None


class ClaimChanged(OSError):
    """A claimed file's bytes moved while they were read: they are not the ones that were judged complete."""


class Releases:
    """Files the SFTP server published (complete for sure): taken without waiting for the settle time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[tuple[str, str]] = set()
        self.event = threading.Event()

    def release(self, subscriber: str, name: str) -> None:
        with self._lock:
            self._items.add((subscriber, name))
        self.event.set()

    def subscribers(self) -> set[str]:
        """The subscribers with a released file not taken yet."""
        with self._lock:
            return {s for s, _n in self._items}

    def take(self, subscriber: str, name: str) -> bool:
        with self._lock:
            if (subscriber, name) in self._items:
                self._items.discard((subscriber, name))
                return True
            return False


def ignored_name(name: str) -> bool:
    """Names never taken: dotfiles, temporary suffixes, completion markers."""
    lower = name.lower()
    return name.startswith(".") or lower.endswith(TEMP_SUFFIXES) or lower.endswith(DONE_SUFFIX)


def scan(inbox: Path, settle_seconds: float, releases: Releases | None = None,
         now: float | None = None, only: set[str] | None = None,
         done_settle_seconds: float = 1.0) -> Iterator[Upload]:
    """The complete uploads of every subscriber folder (or of the ``only`` ones), oldest first within a
    folder. An empty ``NAME.done`` releases ``NAME`` once it has not moved for ``done_settle_seconds``."""
    now = time.time() if now is None else now
    try:
        folders = sorted(os.scandir(inbox), key=lambda e: e.name)
    except FileNotFoundError:
        return
    for folder in folders:
        if only is not None and folder.name not in only:
            continue
        if not _SUBSCRIBER_DIR.match(folder.name) or not folder.is_dir(follow_symlinks=False):
            continue
        yield from _scan_folder(folder.name, Path(folder.path), settle_seconds, done_settle_seconds, releases,
                                now)


def _scan_folder(subscriber: str, folder: Path, settle: float, done_settle: float, releases: Releases | None,
                 now: float) -> Iterator[Upload]:
    try:
        entries = {e.name: e for e in os.scandir(folder)}
    except (FileNotFoundError, NotADirectoryError):
        return
    found = []
    for name, entry in entries.items():
        if ignored_name(name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode):
            log.warning("inbox.not_regular", subscriber=subscriber, name=name)
            continue
        quiet_since = max(st.st_mtime, st.st_ctime)
        released = releases is not None and releases.take(subscriber, name)
        settled = quiet_since <= now - settle
        entry_marker = entries.get(name + DONE_SUFFIX)
        marker = read_marker(Path(entry_marker.path)) if entry_marker is not None else None
        expected: str | None = None
        if entry_marker is not None and marker is None:
            log.warning("inbox.bad_marker", subscriber=subscriber, name=name)  # releases nothing
        elif marker is not None and marker.size is None:
            released = released or quiet_since <= now - done_settle
        elif marker is not None:
            # the marker knows the complete size: nothing else releases a file of another size or content
            released = settled = st.st_size == marker.size and (
                marker.sha256 is None or _sha256_of(Path(entry.path)) == marker.sha256)
            expected = marker.sha256
            if not released and quiet_since <= now - settle:
                log.warning("inbox.marker_mismatch", subscriber=subscriber, name=name, size=st.st_size,
                            expected_size=marker.size)
        if released or settled:
            upload = Upload(subscriber, name, Path(entry.path), st.st_size,
                            Path(entry_marker.path) if entry_marker is not None else None,
                            Stamp(st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino), expected)
            found.append((st.st_mtime, name, upload))
    for _mtime, _name, upload in sorted(found, key=lambda t: (t[0], t[1])):
        yield upload


def _sha256_of(path: Path) -> str | None:
    try:
        _data, _size, sha = read_claimed(path, 0)
    except OSError:
        return None
    return sha


def claim(upload: Upload, incoming: Path) -> Claimed | None:
    """Move the upload out of the inbox and store its bytes; None when another process took it first or it
    moved (it is back in the inbox)."""
    taken = claim_many([upload], incoming)
    return taken[0] if taken else None


def claim_many(uploads: list[Upload], incoming: Path) -> list[Claimed]:
    """Claim several uploads: every sidecar written and synced first (one round of fsync for all), then
    each upload renamed out of the inbox, its bytes copied into the stored original (one more round for all
    copies); those another process took first are left out, those still written to go back to the inbox."""
    incoming.mkdir(parents=True, exist_ok=True)
    sidecars = DurableWrites(limit=len(uploads) + 1)
    staged = []
    for upload in uploads:
        token = secrets.token_hex(12)
        claimed_at = time.time()
        meta = incoming / f"{token}.json"
        sidecars.write(meta, json.dumps(
            {"subscriber": upload.subscriber, "name": upload.name, "claimed_at": claimed_at,
             "source": str(upload.path)}, ensure_ascii=False
        ).encode())
        staged.append((upload, meta, incoming / f"{token}{HELD_SUFFIX}", claimed_at))
    sidecars.commit()
    held = []
    for upload, meta, hold, claimed_at in staged:
        try:
            # rename never follows a symlink: if the entry was swapped for one, we move the link, which
            # the copy then refuses to open (O_NOFOLLOW).
            os.rename(upload.path, hold)
        except FileNotFoundError:
            meta.unlink(missing_ok=True)
            continue
        held.append((upload, meta, hold, claimed_at))
    # Asked once the files are renamed: nobody can open them by their inbox name any more.
    busy = held_for_writing(h[2] for h in held)
    copies = DurableWrites(limit=len(held) + 1)
    copied = []
    for upload, meta, hold, claimed_at in held:
        data = hold.with_suffix(".data")
        try:
            outcome = "open_for_writing" if hold in busy else _copy(hold, data, upload, copies)
        except OSError as exc:  # the disk (full, failing): this file waits in the inbox for the next run
            log.error("inbox.copy_failed", subscriber=upload.subscriber, name=upload.name, error=str(exc))
            outcome = "copy_failed"
        if isinstance(outcome, str):
            log.warning("inbox.not_complete", subscriber=upload.subscriber, name=upload.name, reason=outcome)
            put_back(hold, upload.path, meta)
            continue
        copied.append((upload, meta, hold, data, claimed_at, outcome))
    try:
        copies.commit()
    except OSError:
        for upload, meta, hold, data, _at, _outcome in copied:
            data.unlink(missing_ok=True)
            put_back(hold, upload.path, meta)
        raise
    taken = []
    for upload, meta, hold, data, claimed_at, (size, sha) in copied:
        hold.unlink(missing_ok=True)  # a writer still holding it (unseen) writes into nothing now
        if upload.marker is not None:
            upload.marker.unlink(missing_ok=True)
        taken.append(Claimed(upload.subscriber, upload.name, data, meta, claimed_at, size, sha))
    return taken


class _Moved(Exception):
    """The held file moved while it was copied (internal to :func:`_copy`)."""


def _copy(hold: Path, data: Path, upload: Upload, copies: DurableWrites) -> tuple[int, str] | str:
    """Copy the held file into ``data`` (pending in ``copies``), hashing the bytes written: (size, SHA-256),
    or why it is not complete (nothing is left pending then)."""
    try:
        fd = os.open(hold, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return "not_regular"  # the entry was swapped for a link (ELOOP) or vanished
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return "not_regular"
        stamp = upload.stamp
        if stamp is not None and (stamp.size, stamp.mtime_ns, stamp.device, stamp.inode) != (
                before.st_size, before.st_mtime_ns, before.st_dev, before.st_ino):
            return "changed_since_scan"
        digest = hashlib.sha256()
        size = 0

        def blocks() -> Iterator[bytes]:
            nonlocal size
            while block := os.read(fd, 1 << 20):
                digest.update(block)
                size += len(block)
                yield block
            after = os.fstat(fd)
            # ctime too: the rename set it before ``before``; any write or truncation since moves it
            if (size, after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
                    before.st_size, before.st_size, before.st_mtime_ns, before.st_ctime_ns):
                raise _Moved("changed_while_copied")
            if upload.sha256 is not None and digest.hexdigest() != upload.sha256:
                raise _Moved("not_the_announced_content")

        try:
            copies.write_chunks(data, blocks(), STORED_MODE)
        except _Moved as moved:
            return str(moved)
        return size, digest.hexdigest()
    finally:
        os.close(fd)


def put_back(hold: Path, source: Path, meta: Path) -> Path:
    """Undo a claim: the held file returns to its inbox name (it then waits to settle again: the rename moves
    its change time), the sidecar goes. Never over a file uploaded since under that name: then the held one
    stays beside its sidecar as ``<token>.parked`` and an error is logged. Returns where the file is.

    A rename, not a link: a writer still holding the file keeps a descriptor whose path follows it, so it
    is seen again at the next claim."""
    try:
        rename_noreplace(hold, source)
    except FileExistsError:
        parked = hold.with_suffix(PARKED_SUFFIX)
        os.rename(hold, parked)
        log.error("inbox.put_back_conflict", name=source.name, parked=str(parked))
        return parked
    meta.unlink(missing_ok=True)
    return source


_AT_FDCWD, _RENAME_NOREPLACE = -100, 1
_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)


def rename_noreplace(src: Path, dst: Path) -> None:
    """``os.rename`` that raises FileExistsError instead of replacing ``dst`` (Linux ``renameat2``); where
    the system or the file system lacks it, a check then a rename (a narrow race, the best available)."""
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(src), None, str(dst))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


class RunFolder:
    """``jobs/<run>/``, locked (flock on ``.lock``) for as long as the process that claims into it lives.

    The lock tells orphan recovery which run folders belong to a live process: their claimed files will get
    their row from that process; only folders of dead processes hold orphans.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def incoming(self) -> Path:
        if self._fd is None:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
        return self.path / "incoming"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def orphans(jobs_dir: Path, known: set[str]) -> Iterator[Claimed]:
    """Claimed files whose database row was never written (a crash between rename and insert).

    ``known`` holds the stored paths the database knows; run folders still locked by a live process are
    skipped. A sidecar without data means the rename never happened: the upload is still in the inbox, the
    sidecar is dropped.
    """
    for lock_path in sorted(jobs_dir.glob("*/.lock")):
        fd = os.open(lock_path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process owns this run
            yield from _orphans_in(lock_path.parent, known)
        finally:
            os.close(fd)


def _orphans_in(run: Path, known: set[str]) -> Iterator[Claimed]:
    for meta in sorted(run.glob("incoming/*.json")):
        data = meta.with_suffix(".data")
        hold = meta.with_suffix(HELD_SUFFIX)
        if meta.with_suffix(PARKED_SUFFIX).exists():
            continue  # kept for an operator, with its sidecar
        if not data.exists():
            if hold.exists():  # renamed, never copied: back to the inbox, judged again
                _put_back_orphan(meta, hold)
            else:  # the rename never happened: the upload is still in the inbox
                meta.unlink(missing_ok=True)
            continue
        hold.unlink(missing_ok=True)  # copied (the copy is synced before the held file goes)
        if str(data) in known:
            continue
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.error("jobs.bad_sidecar", path=str(meta))
            continue
        yield Claimed(info["subscriber"], info["name"], data, meta, float(info["claimed_at"]))


def _put_back_orphan(meta: Path, hold: Path) -> None:
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        source = Path(info["source"])
    except (OSError, ValueError, KeyError, TypeError):
        log.error("jobs.bad_sidecar", path=str(meta))
        return
    log.warning("jobs.put_back", name=info.get("name"), subscriber=info.get("subscriber"))
    put_back(hold, source, meta)


def read_claimed(path: Path, limit: int) -> tuple[bytes | None, int, str]:
    """(bytes, size, SHA-256 of exactly those bytes) of a claimed file, opened without following links,
    read once.

    Over ``limit`` the bytes are not kept (None): the hash is computed block by block, nothing is parsed.
    Raises :class:`ClaimChanged` when the file moved while it was read (its size or times at the end are
    not those at the start): the bytes read are not a file that ever existed whole.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        before = os.fstat(fh.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise OSError(f"not a regular file: {path.name}")
        digest = hashlib.sha256()
        chunks: list[bytes] | None = []
        size = 0
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
            if chunks is not None:
                chunks.append(block)
                if size > limit:
                    chunks = None
        after = os.fstat(fh.fileno())
    if (size, after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (
            before.st_size, before.st_size, before.st_mtime_ns, before.st_ctime_ns):
        raise ClaimChanged(f"changed while read: {path.name}")
    return (b"".join(chunks) if chunks is not None else None), size, digest.hexdigest()
