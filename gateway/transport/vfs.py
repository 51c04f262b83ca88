"""A subscriber's virtual tree: ``/`` holds ``/inbox`` and ``/outbox``, mapped to its own two folders.

Confinement is decided on resolved real paths, never on string prefixes: a client path is normalised
(``..`` cannot climb above ``/``), mapped under the area's real folder, then ``os.path.realpath`` must give
back the very same path (so no component is a symbolic link: links are never followed) and that path must
lie under the folder by ``os.path.commonpath`` (so subscriber 123 never reaches 1234's folder, which a
``startswith`` test would allow). NUL and backslash are refused outright.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from gateway.transport.auth import Account

UPLOAD_PREFIX = ".upload-"  # our temporary upload names: hidden, never taken by intake, reserved
MAX_NAME_BYTES = 255


class Area(Enum):
    ROOT = "root"
    INBOX = "inbox"
    OUTBOX = "outbox"


class Refused(Exception):
    """A request the server answers with an error status; ``kind`` maps to an SFTP status code."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "missing" | "denied" | "failure" | "unsupported"
        self.message = message


def missing(what: str = "fichier introuvable") -> Refused:
    return Refused("missing", what)


def denied(why: str = "permission refusée") -> Refused:
    return Refused("denied", why)


@dataclass(frozen=True)
class Resolved:
    """A client path after normalisation: its virtual form, its area, and its real path (None for ``/``)."""

    virtual: str
    area: Area
    real: Path | None
    parts: tuple[str, ...]  # components below the area's folder

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def is_area_root(self) -> bool:
        return self.area is not Area.ROOT and not self.parts


def normalize(path: str) -> str:
    """The client's path as an absolute virtual path; the session's current folder is always ``/``."""
    if "\x00" in path or "\\" in path:
        raise denied("caractère interdit dans le chemin (NUL ou barre oblique inverse)")
    return posixpath.normpath("/" + path.lstrip("/")) if path else "/"


class Tree:
    """The two real folders of one account, with the confinement check."""

    def __init__(self, account: Account) -> None:
        self.account = account
        # Resolve once: the folders themselves may sit under a link (e.g. /var → /private/var).
        self.bases = {
            Area.INBOX: os.path.realpath(account.inbox),
            Area.OUTBOX: os.path.realpath(account.outbox),
        }

    def resolve(self, path: str) -> Resolved:
        virtual = normalize(path)
        parts = tuple(p for p in virtual.split("/") if p)
        if not parts:
            return Resolved("/", Area.ROOT, None, ())
        try:
            area = Area(parts[0])
        except ValueError:
            raise missing() from None
        if area is Area.ROOT:
            raise missing()
        below = parts[1:]
        for part in below:
            if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
                raise Refused("failure", "nom trop long")
        base = self.bases[area]
        real = os.path.join(base, *below) if below else base
        resolved = os.path.realpath(real)
        # realpath differing from the lexical path means a link somewhere on the way: never followed.
        if resolved != real or os.path.commonpath([base, resolved]) != base:
            raise missing()
        return Resolved(virtual, area, Path(real), below)


def check_upload_name(name: str) -> str:
    """A name a subscriber may create in its inbox: one component, not our reserved temporary prefix."""
    if not name or name in (".", "..") or "/" in name:
        raise denied("nom de fichier refusé")
    if name.startswith(UPLOAD_PREFIX):
        raise denied("nom réservé par la passerelle")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise denied("caractère de contrôle dans le nom")
    return name


__all__ = ["UPLOAD_PREFIX", "Area", "Refused", "Resolved", "Tree", "check_upload_name", "denied", "missing", "normalize"]
