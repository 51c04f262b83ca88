"""What each running daemon says of itself: ready or degraded (and why, since when), its last batch.

One small JSON file per instance in ``<jobs>/instances/`` (several instances may share a PostgreSQL database
and a jobs folder), written after every batch and removed when the daemon stops; ``gateway status`` reads
them. A file whose process is gone (same host, dead pid) is shown as such, not as a live instance.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.faults import Outage
from gateway.files import atomic_write
from gateway.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Instance:
    host: str
    pid: int
    state: str  # "ready", "degraded" or "stopped" (its process is gone without saying so)
    reason: str | None
    detail: str
    since: str | None
    last_batch: str | None
    updated_at: str


class Health:
    def __init__(self, jobs_dir: Path) -> None:
        self.folder = jobs_dir / "instances"
        self.host = socket.gethostname()
        self.path = self.folder / f"{self.host}-{os.getpid()}.json"
        self._last_batch: str | None = None

    def write(self, outage: Outage, batch: str | None = None) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        if batch:
            self._last_batch = batch
        since = outage.began_at.isoformat(timespec="seconds") if outage.began_at else None
        doc = {"host": self.host, "pid": os.getpid(), "state": "degraded" if outage.degraded else "ready",
               "reason": outage.reason, "detail": outage.detail, "since": since,
               "last_batch": self._last_batch, "updated_at": now}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(doc, ensure_ascii=False).encode())
        except OSError as exc:  # a full disk must not stop the daemon; the log says it
            log.debug("health.not_written", error=str(exc))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def instances(jobs_dir: Path) -> list[Instance]:
    out = []
    host = socket.gethostname()
    for path in sorted((jobs_dir / "instances").glob("*.json")):
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        state = doc.get("state", "ready")
        if doc.get("host") == host and not _alive(int(doc.get("pid", 0))):
            state = "stopped"
        out.append(Instance(doc.get("host", "?"), int(doc.get("pid", 0)), state, doc.get("reason"),
                            doc.get("detail", ""), doc.get("since"), doc.get("last_batch"),
                            doc.get("updated_at", "")))
    return out


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
