"""File primitives: atomic writes, hashing, safe names. Every document the gateway delivers goes through here."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, never a part.

    Temp file in the same folder, fsync, ``os.replace``, fsync the folder (:class:`DurableWrites` of one).
    """
    writes = DurableWrites()
    writes.write(path, data, mode)
    writes.commit()


TMP_PREFIX = ".tmp-"  # a write in progress (or cut short by a crash: gateway.sweep and retention remove it)
_FOLDERS_MADE: set[Path] = set()  # folders this process made or found: not asked again for each file


class DurableWrites:
    """Several files written as :func:`atomic_write` would, made durable together: each goes to a temporary
    file beside its final name; :meth:`commit` syncs them all, renames them all, then syncs each folder once.

    Two rounds of fsync for the lot instead of two per file (on a journalled file system the first sync of
    a round commits the journal; the others find little left). Files not committed are removed by
    :meth:`discard`. At most ``limit`` files are kept open: past that, the batch commits what it holds.
    """

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._pending: list[tuple[int, str, Path]] = []

    def write(self, path: Path, data: bytes, mode: int = 0o644) -> None:
        self.write_chunks(path, (data,), mode)

    def write_chunks(self, path: Path, chunks: Iterable[bytes], mode: int = 0o644) -> None:
        """Like :meth:`write`, the bytes coming block by block (a copy never held whole in memory).

        An exception raised by ``chunks`` removes this file's temporary file and propagates; the files
        already written stay pending."""
        folder = path.parent
        if folder not in _FOLDERS_MADE:
            folder.mkdir(parents=True, exist_ok=True)
            _FOLDERS_MADE.add(folder)
        try:
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
        except FileNotFoundError:  # the folder was removed since (retention): made again
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
        try:
            for data in chunks:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        self._pending.append((fd, tmp, path))
        if len(self._pending) >= self.limit:
            self.commit()

    def commit(self) -> None:
        pending, self._pending = self._pending, []
        folders: dict[Path, None] = {}
        renamed = 0
        try:
            try:
                for fd, _tmp, _path in pending:
                    os.fsync(fd)
            finally:
                for fd, _tmp, _path in pending:
                    os.close(fd)
            for _fd, tmp, path in pending:
                os.replace(tmp, path)
                renamed += 1
                folders[path.parent] = None
        finally:
            for _fd, tmp, _path in pending[renamed:]:  # a sync or a rename failed: no temporary file left
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
        for folder in folders:
            fsync_dir(folder)

    def absorb(self, other: DurableWrites) -> None:
        """Take ``other``'s pending files (committed or discarded with these from now on)."""
        self._pending.extend(other._pending)
        other._pending = []

    def discard(self) -> None:
        pending, self._pending = self._pending, []
        for fd, tmp, _path in pending:
            os.close(fd)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def safe_name(name: str, default: str = "fichier", limit: int = 120) -> str:
    """A file-system-safe form of an uploaded name for output names; never a path component that escapes."""
    base = os.path.basename(name.replace("\\", "/"))
    cleaned = _SAFE.sub("_", base).strip("._")
    return (cleaned or default)[:limit]
