"""Upload completion rules of the interchange spec, shared by the local folders and the SFTP client.

A file is taken only when it is complete (spec "Upload completion"):
- names starting with ``.`` or ending with ``.part``, ``.partial``, ``.filepart``, ``.tmp`` or
  ``.crdownload`` are never taken (uploads in progress, our own temporary files);
- ``NAME.done`` (the marker itself is never taken) releases ``NAME`` at once;
- otherwise a file is taken once its size and modification time have not changed for the settle time.

Everything here is pure: listings in, decisions out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

TEMPORARY_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", ".crdownload")
DONE_SUFFIX = ".done"


def is_temporary(name: str) -> bool:
    """True for names that are never taken: dotfiles and the usual in-progress suffixes."""
    lowered = name.lower()
    return name.startswith(".") or lowered.endswith(TEMPORARY_SUFFIXES)


def is_done_marker(name: str) -> bool:
    return name.lower().endswith(DONE_SUFFIX) and len(name) > len(DONE_SUFFIX)


def is_candidate(name: str) -> bool:
    """A name that may become a submission once complete (not temporary, not a marker)."""
    return bool(name) and not is_temporary(name) and not is_done_marker(name)


def marker_for(name: str) -> str:
    return name + DONE_SUFFIX


@dataclass(frozen=True)
class Seen:
    """One regular file as listed: its name (metadata, never a path), size and modification time."""

    name: str
    size: int
    mtime: float


class Settler:
    """Decides which listed files are complete, remembering what it saw between two listings.

    A file is complete when its ``NAME.done`` marker is present, when it was explicitly released (the
    built-in server published it atomically), or when the same size and mtime have been observed for
    ``settle_seconds``. With ``trust_mtime`` (local folders: same clock), a file whose mtime is already
    older than the settle time is complete at first sight, so a restart does not wait again.
    """

    def __init__(
        self, settle_seconds: float, *, trust_mtime: bool, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.settle_seconds = settle_seconds
        self.trust_mtime = trust_mtime
        self._monotonic = monotonic
        # (scope, name) -> (size, mtime, monotonic time this size and mtime were first seen)
        self._seen: dict[tuple[str, str], tuple[int, float, float]] = {}
        self._released: dict[tuple[str, str], tuple[int, float]] = {}

    def release(self, scope: str, entry: Seen) -> None:
        """Mark a file complete now (published atomically by the built-in server)."""
        self._released[(scope, entry.name)] = (entry.size, entry.mtime)

    def forget(self, scope: str, name: str) -> None:
        self._seen.pop((scope, name), None)
        self._released.pop((scope, name), None)

    def complete(
        self, scope: str, entries: Iterable[Seen], *, now_wall: float | None = None, now_mono: float | None = None
    ) -> list[Seen]:
        """The complete candidates among ``entries`` (one folder listing), oldest first."""
        wall = time.time() if now_wall is None else now_wall
        mono = self._monotonic() if now_mono is None else now_mono
        listed = {e.name: e for e in entries}
        markers = {n[: -len(DONE_SUFFIX)] for n in listed if is_done_marker(n)}
        ready: list[Seen] = []
        for name, entry in listed.items():
            if not is_candidate(name):
                continue
            key = (scope, name)
            stamp = (entry.size, entry.mtime)
            if name in markers or self._released.get(key) == stamp:
                ready.append(entry)
                continue
            previous = self._seen.get(key)
            if previous is None or previous[:2] != stamp:
                previous = (entry.size, entry.mtime, mono)  # new or changed: the settle time starts now
                self._seen[key] = previous
            if mono - previous[2] >= self.settle_seconds or (
                self.trust_mtime and wall - entry.mtime >= self.settle_seconds
            ):
                ready.append(entry)
        # Drop memories of files that left the folder, so the tables do not grow forever.
        for key in [k for k in self._seen if k[0] == scope and k[1] not in listed]:
            del self._seen[key]
        for key in [k for k in self._released if k[0] == scope and k[1] not in listed]:
            del self._released[key]
        return sorted(ready, key=lambda e: (e.mtime, e.name))


def non_colliding(name: str, taken: int) -> str:
    """The ``taken``-th alternative of ``name`` keeping its extension: ``decl.xml`` → ``decl (2).xml``.

    ``*.test.csv`` keeps its double extension so a test file stays a test file.
    """
    lowered = name.lower()
    if lowered.endswith(".test.csv"):
        stem, ext = name[: -len(".test.csv")], name[-len(".test.csv") :]
    else:
        dot = name.rfind(".")
        stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    return f"{stem} ({taken}){ext}"
