"""Which files a process still holds open for writing (Linux ``/proc``): a writer that paused is not a writer
that finished.

The receive stage asks this about files it has just renamed out of the inbox: a writer holding such a file
open would go on writing into the renamed inode, so the claim is undone. Best effort by nature: only the
processes this one may inspect are seen (those of its own user, or all of them as root); without ``/proc``
nothing is seen. Descriptors are matched first by the name their target has now (the claim gives each file
a random name, the same in every mount namespace), then by device and inode: apart from targets whose name
was removed, no other file is ever ``stat``-ed, so a hung network mount elsewhere cannot stall the intake.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
_DELETED = " (deleted)"


def held_for_writing(paths: Iterable[Path], proc: Path = PROC) -> set[Path]:
    """The ``paths`` (regular files, names unique to the caller) some process holds open for writing."""
    by_inode: dict[tuple[int, int], Path] = {}
    for path in paths:
        try:
            st = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            continue
        by_inode[(st.st_dev, st.st_ino)] = path
    wanted = {p.name for p in by_inode.values()}
    if not wanted:
        return set()
    found: set[Path] = set()
    try:
        processes = [e.name for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return found
    for pid in processes:
        fd_dir = proc / pid / "fd"
        try:
            descriptors = os.listdir(fd_dir)
        except OSError:  # gone, or not ours to look at
            continue
        for fd in descriptors:
            try:
                target = os.readlink(fd_dir / fd)
            except OSError:
                continue
            # A name removed while other links remain (a writer that opened a name since unlinked) says
            # nothing of the inode: those are compared by inode, like the names we look for.
            if not (target.endswith(_DELETED) or target.rpartition("/")[2] in wanted):
                continue
            try:
                st = os.stat(fd_dir / fd)
                match = by_inode.get((st.st_dev, st.st_ino))
                if match is not None and match not in found and _writable(proc / pid / "fdinfo" / fd):
                    found.add(match)
            except OSError:
                continue
    return found


def _writable(fdinfo: Path) -> bool:
    """True when the descriptor was opened for writing (``flags:`` of fdinfo, octal)."""
    for line in fdinfo.read_text().splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
    return False
