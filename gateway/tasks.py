"""What the worker processes run: read one claimed file (identify, parse, validate) into a ReadResult.

Kept tiny and importable on its own: each worker imports it once when it starts.
"""

from __future__ import annotations

from pathlib import Path

from gateway import formats
from gateway.codes import finding
from gateway.domain import Location, ReadResult
from gateway.receive import read_claimed


def read_upload(path: str, name: str, limits: formats.Limits) -> ReadResult:
    """Parse the claimed file at ``path`` (uploaded as ``name``); refused without parsing when too large."""
    data, size, _sha = read_claimed(Path(path), limits.max_file_bytes)
    if data is None:
        return formats.refused(None, [finding("FILE_TOO_LARGE", f"Fichier de {size} octets.", Location(),
                                              f"au plus {limits.max_file_bytes} octets")])
    return formats.read(data, name, limits)
