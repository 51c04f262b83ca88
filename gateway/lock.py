"""The single-instance lock of an SQLite installation: SQLite takes one working process, not several.

An exclusive ``flock`` on ``<database>.lock``, released by the kernel when the process ends (even on kill -9).
On PostgreSQL there is no such lock: several instances share the work (row locks, advisory locks).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Self

from gateway.config import Config
from gateway.errors import AlreadyRunning


class InstanceLock:
    def __init__(self, config: Config) -> None:
        self.path: Path | None = None
        if config.is_sqlite and ":memory:" not in config.database_url:
            self.path = Path(config.database_url.split("///", 1)[1] + ".lock")
        self._fd: int | None = None

    def __enter__(self) -> Self:
        if self.path is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self.path.read_text().strip() or "?"
            raise AlreadyRunning(f"une autre instance de la passerelle (pid {holder}) utilise déjà cette base "
                                 f"SQLite; SQLite n'en admet qu'une (PostgreSQL pour plusieurs)") from None
        os.ftruncate(fd, 0)
        try:
            os.write(fd, str(os.getpid()).encode())  # for the message of a second instance only
        except OSError:
            pass  # a full disk: the lock holds all the same, the intake waits for space (degraded)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
