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

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath

from gateway.files import DurableWrites, atomic_write, safe_name, sha256_bytes


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
        """The document's path on disk; its folder must resolve inside the outbox (checked once per folder
        and process: a delivery writes thousands of documents into a few folders). The name itself is
        never followed: an atomic write replaces whatever entry has that name."""
        if relative.name in ("", ".", ".."):
            raise ValueError(f"outbox path without a file name: {relative}")
        return _resolved_folder(self.root, relative.parent) / relative.name


@lru_cache(maxsize=4096)
def _resolved_folder(root: Path, folder: PurePosixPath) -> Path:
    path = (root / folder).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"outbox path escapes the outbox: {folder}")
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


class Batch:
    """The documents of one upload, made durable together (:class:`gateway.files.DurableWrites`): the same
    guarantee as :func:`write` for each document, and every one of them on disk before :meth:`commit`
    returns, hence before the database says it was delivered."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._writes = DurableWrites()

    def write(self, relative: PurePosixPath, data: bytes) -> Written:
        self._writes.write(self.layout.absolute(relative), data)
        return Written(str(relative), sha256_bytes(data), len(data))

    def commit(self) -> None:
        self._writes.commit()

    def absorb(self, other: Batch) -> None:
        """Take ``other``'s pending documents: they are made durable with this batch's, in its sync round."""
        self._writes.absorb(other._writes)

    def discard(self) -> None:
        self._writes.discard()


def stamp(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}"
