"""The ``NAME.done`` marker of the drop protocol: what it says about ``NAME`` (docs/formats.md, "Dépôt").

Empty: the writer says it has finished (the receive stage still waits until ``NAME`` has been quiet for
``[intake] done_settle_seconds``). Otherwise it gives the size, and perhaps the SHA-256, of the complete file.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

MARKER_MAX_BYTES = 4096
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Marker:
    """What a ``NAME.done`` says: nothing (empty), or the size and perhaps the SHA-256 of the whole file."""

    size: int | None = None
    sha256: str | None = None


def read_marker(path: Path) -> Marker | None:
    """The content of a ``NAME.done``; None when it is not a regular file or says something else.

    Empty (or blank): the writer says it has finished. Otherwise ``key=value`` lines, ``size`` (bytes,
    required) and ``sha256`` (hexadecimal, optional)::

        size=48213
        sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = fh.read(MARKER_MAX_BYTES + 1)
    if len(raw) > MARKER_MAX_BYTES:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in ("size", "sha256") or key in values:
            return None
        values[key] = value
    if not values:
        return Marker()
    size, sha = values.get("size"), values.get("sha256")
    if size is None or not (size.isascii() and size.isdigit()):
        return None
    if sha is not None and not _SHA256.fullmatch(sha):
        return None
    return Marker(int(size), sha.lower() if sha else None)
