"""Sweep: remove the temporary files (``.tmp-*``) that writes cut short by a crash left in the outbox and in
``jobs/``; run at start-up, before anything is written.

Only regular files whose name starts with :data:`~gateway.files.TMP_PREFIX` and whose modification time is
older than the age given are removed: a younger one may be a write in progress (another instance, another
job). The walk goes through descriptors (``os.fwalk``): it never follows a symbolic link, never leaves the
two roots, and a folder swapped for a link while it runs cannot send it elsewhere.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from gateway.config import Config
from gateway.files import TMP_PREFIX
from gateway.log import EventLogger


def sweep_temporaries(config: Config, older_than_seconds: float, log: EventLogger,
                      now: float | None = None) -> list[Path]:
    """Remove the ``.tmp-*`` files older than ``older_than_seconds`` under the outbox and ``jobs/``; return
    them, and log one line (``sweep.temporaries``) saying how many were removed.

    The age is the machine's (``time.time()``, or ``now``): the gateway's clock may be set for a catch-up."""
    limit = (time.time() if now is None else now) - older_than_seconds
    removed: list[Path] = []
    for root in dict.fromkeys(p.resolve() for p in (config.outbox, config.jobs_dir)):
        if root.is_dir():
            removed.extend(_sweep(root, limit))
    log.info("sweep.temporaries", removed=len(removed), older_than_seconds=older_than_seconds)
    return removed


def _sweep(root: Path, limit: float) -> list[Path]:
    removed = []
    # ``root`` itself is taken as configured (it may be a link to a data volume); nothing below it is
    for folder, _dirs, names, dir_fd in os.fwalk(root, follow_symlinks=False):
        for name in names:
            if not name.startswith(TMP_PREFIX):
                continue
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode) or st.st_mtime >= limit:
                    continue
                os.unlink(name, dir_fd=dir_fd)
            except FileNotFoundError:
                continue
            removed.append(Path(folder) / name)
    return removed
