"""Where documents go in a subscriber's outbox, and delivering them (atomically, recorded once).

    outbox/<subscriber>/
      acknowledgements/<uploaded name>.<REF>.ack.xml|.pdf     one pair per upload (accusés de réception)
      <employer>/declarations/<period>/declaration-<employer>-<period>-<REF>.pdf
      <employer>/payslips/<period>/payslip-<registration>-<period>-<REF>.pdf|.xml
      <employer>/statements/<period>/…   <employer>/mandate/…   <employer>/prefilled/<period>/…
      <employer>/workforce/<period>/…    synthesis/…
      test/…                              the same tree, for files sent with test="true" or *.test.csv

Names are built from validated identifiers and the gateway's references only; an uploaded name is reduced
to a safe form (letters, digits, ``._-``) and never used as a path.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from gateway.files import atomic_write, fsync_dir, safe_name, sha256_bytes


@dataclass(frozen=True)
class Layout:
    root: Path  # the outbox folder

    def base(self, subscriber: str, test: bool = False) -> PurePosixPath:
        return PurePosixPath(subscriber, "test") if test else PurePosixPath(subscriber)

    def acknowledgement(self, subscriber: str, uploaded: str, reference: str, test: bool, suffix: str,
                        variant: str = "") -> PurePosixPath:
        stem = safe_name(uploaded, default="envoi")
        return self.base(subscriber, test) / "acknowledgements" / f"{stem}.{reference}{variant}.ack.{suffix}"

    def declaration_pdf(self, subscriber: str, employer: str, period: str, reference: str,
                        test: bool) -> PurePosixPath:
        return (self.base(subscriber, test) / employer / "declarations" / period
                / f"declaration-{employer}-{period}-{reference}.pdf")

    def payslip(self, subscriber: str, employer: str, period: str, registration: str, reference: str,
                test: bool, suffix: str) -> PurePosixPath:
        return (self.base(subscriber, test) / employer / "payslips" / period
                / f"payslip-{registration}-{period}-{reference}.{suffix}")

    def employer_doc(self, subscriber: str, employer: str, kind: str, name: str,
                     period: str | None = None) -> PurePosixPath:
        folder = self.base(subscriber) / employer / kind
        return (folder / period / name) if period else folder / name

    def subscriber_doc(self, subscriber: str, kind: str, name: str) -> PurePosixPath:
        return self.base(subscriber) / kind / name

    def absolute(self, relative: PurePosixPath) -> Path:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"outbox path escapes the outbox: {relative}")
        return path


@dataclass(frozen=True)
class Written:
    path: str  # relative to the outbox root, with '/'
    sha256: str
    size: int


def write(layout: Layout, relative: PurePosixPath, data: bytes) -> Written:
    """Write one document atomically (temp, fsync, rename, fsync folder)."""
    atomic_write(layout.absolute(relative), data)
    return Written(str(relative), sha256_bytes(data), len(data))


@dataclass
class Batch:
    """The documents of one upload, made durable together: each is written to a temporary file beside its
    final name, then :meth:`commit` syncs them all, renames them all and syncs their folders once each.

    Same guarantee as :func:`write` for each document (a reader sees the old file or the whole new one,
    and a document is on disk before the database says it was delivered), with two rounds of fsync per
    upload instead of two per document. Documents not committed are removed by :meth:`discard`.
    """

    layout: Layout
    _pending: list[tuple[int, str, Path]] = field(default_factory=list)

    def write(self, relative: PurePosixPath, data: bytes) -> Written:
        path = self.layout.absolute(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            _write_all(fd, data)
            os.fchmod(fd, 0o644)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        self._pending.append((fd, tmp, path))
        if len(self._pending) >= 64:  # a payslip file's hundreds of documents: not all open at once
            self.commit()
        return Written(str(relative), sha256_bytes(data), len(data))

    def commit(self) -> None:
        pending, self._pending = self._pending, []
        try:
            for fd, _tmp, _path in pending:
                os.fsync(fd)  # the first one commits the file system's journal; the others find little left
        finally:
            for fd, _tmp, _path in pending:
                os.close(fd)
        folders = {}
        for _fd, tmp, path in pending:
            os.replace(tmp, path)
            folders[path.parent] = None
        for folder in folders:
            fsync_dir(folder)

    def discard(self) -> None:
        pending, self._pending = self._pending, []
        for fd, tmp, _path in pending:
            os.close(fd)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def stamp(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}"
