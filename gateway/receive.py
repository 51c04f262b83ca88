"""Receive: find complete uploads in ``inbox/<subscriber>/`` and claim each exactly once.

A file is complete when it is released by ``NAME.done`` or by the SFTP server (``release``), or when its
size, modification and change times have not moved for the settle time. Only regular files are taken:
no symlink, FIFO or device is ever followed or opened. Names starting with ``.`` and the temporary suffixes of
the spec are never taken. The uploaded name is kept as metadata only; on disk the file gets a generated name.

Claiming is an atomic rename into ``jobs/<run>/incoming/<token>.data``, with a ``<token>.json`` sidecar
(subscriber, uploaded name) written first, so a crash between the rename and the database row loses
nothing: :func:`orphans` finds such files on the next start.
"""

from __future__ import annotations

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
from gateway.log import get_logger

log = get_logger(__name__)

TEMP_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", ".crdownload")
DONE_SUFFIX = ".done"
SPECIAL_NAMES = {"email-verification.txt"}
_SUBSCRIBER_DIR = re.compile(r"^[0-9]{5,10}$")


@dataclass(frozen=True)
class Upload:
    """A complete file in a subscriber's inbox, not yet claimed."""

    subscriber: str
    name: str
    path: Path
    size: int
    marker: Path | None = None  # the NAME.done that released it, removed once claimed


@dataclass(frozen=True)
class Claimed:
    """A file moved out of the inbox into a run folder: ours now, whatever happens."""

    subscriber: str
    name: str
    path: Path  # jobs/<run>/incoming/<token>.data
    meta: Path  # jobs/<run>/incoming/<token>.json
    claimed_at: float


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
         now: float | None = None, only: set[str] | None = None) -> Iterator[Upload]:
    """The complete uploads of every subscriber folder (or of the ``only`` ones), oldest first within a
    folder."""
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
        yield from _scan_folder(folder.name, Path(folder.path), settle_seconds, releases, now)


def _scan_folder(subscriber: str, folder: Path, settle: float, releases: Releases | None,
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
        marker = entries.get(name + DONE_SUFFIX)
        released = marker is not None or (releases is not None and releases.take(subscriber, name))
        settled = max(st.st_mtime, st.st_ctime) <= now - settle
        if released or settled:
            found.append((st.st_mtime, name, Upload(subscriber, name, Path(entry.path), st.st_size,
                                                   Path(marker.path) if marker else None)))
    for _mtime, _name, upload in sorted(found, key=lambda t: (t[0], t[1])):
        yield upload


def claim(upload: Upload, incoming: Path) -> Claimed | None:
    """Move the upload out of the inbox (atomic rename); None when another process took it first."""
    taken = claim_many([upload], incoming)
    return taken[0] if taken else None


def claim_many(uploads: list[Upload], incoming: Path) -> list[Claimed]:
    """Claim several uploads: every sidecar written and synced first (one round of fsync for all), then
    each upload renamed; those another process took first are left out."""
    incoming.mkdir(parents=True, exist_ok=True)
    sidecars = DurableWrites(limit=len(uploads) + 1)
    staged = []
    for upload in uploads:
        token = secrets.token_hex(12)
        claimed_at = time.time()
        meta = incoming / f"{token}.json"
        sidecars.write(meta, json.dumps(
            {"subscriber": upload.subscriber, "name": upload.name, "claimed_at": claimed_at}, ensure_ascii=False
        ).encode())
        staged.append((upload, meta, incoming / f"{token}.data", claimed_at))
    sidecars.commit()
    taken = []
    for upload, meta, data, claimed_at in staged:
        try:
            # rename never follows a symlink: if the entry was swapped for one, we move the link, which
            # the reader then refuses to open (O_NOFOLLOW).
            os.rename(upload.path, data)
        except FileNotFoundError:
            meta.unlink(missing_ok=True)
            continue
        if upload.marker is not None:
            upload.marker.unlink(missing_ok=True)
        taken.append(Claimed(upload.subscriber, upload.name, data, meta, claimed_at))
    return taken


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
        if not data.exists():
            meta.unlink(missing_ok=True)
            continue
        if str(data) in known:
            continue
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.error("jobs.bad_sidecar", path=str(meta))
            continue
        yield Claimed(info["subscriber"], info["name"], data, meta, float(info["claimed_at"]))


def read_claimed(path: Path, limit: int) -> tuple[bytes | None, int, str]:
    """(bytes, size, SHA-256) of a claimed file, opened without following links.

    Over ``limit`` the bytes are not kept (None): the hash is computed block by block, nothing is parsed.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
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
    return (b"".join(chunks) if chunks is not None else None), size, digest.hexdigest()
