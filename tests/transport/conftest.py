"""Fixtures of the transport tests: subscriber folders, an in-memory authenticator, the built-in server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # openssh_kit, without making tests/ a package

from openssh_kit import KeyPair, keygen, known_hosts_for

from gateway.config import SftpSection
from gateway.transport.auth import Account, MemoryAuthenticator
from gateway.transport.hostkey import ensure_host_key, known_hosts_line
from gateway.transport.sftp_server import SftpServer

PASSWORD = "correct horse battery staple"
NOT_VERIFIED = "adresse e-mail non vérifiée: déposez email-verification.txt avec le code reçu"


@dataclass
class Site:
    """A running built-in server and everything a test needs to talk to it."""

    root: Path
    server: SftpServer
    port: int
    known_hosts: Path
    auth: MemoryAuthenticator
    key: KeyPair  # registered for subscriber 123
    uploads: list[tuple[str, str]] = field(default_factory=list)

    def inbox(self, subscriber: str) -> Path:
        return self.root / "inbox" / subscriber

    def outbox(self, subscriber: str) -> Path:
        return self.root / "outbox" / subscriber


def _account(root: Path, subscriber: str, **kw: Any) -> Account:
    inbox, outbox = root / "inbox" / subscriber, root / "outbox" / subscriber
    inbox.mkdir(parents=True, exist_ok=True)
    outbox.mkdir(parents=True, exist_ok=True)
    return Account(subscriber, inbox, outbox, **kw)


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    started: list[SftpServer] = []

    def make(failure_floor: float = 0.05, **settings: Any) -> Site:
        root = tmp_path / f"site{len(started)}"
        auth = MemoryAuthenticator()
        key = keygen(tmp_path / f"client{len(started)}_ed25519")
        auth.add(_account(root, "123"), password=PASSWORD, keys=((key.key_type, key.blob),))
        auth.add(_account(root, "1234"), password="other-password")
        auth.add(_account(root, "555"), password=PASSWORD, disabled=True)
        auth.add(_account(root, "777", uploads_allowed=False, reason=NOT_VERIFIED), password=PASSWORD)
        client_folder = root / "outbox" / "123" / "104512"
        client_folder.mkdir(parents=True)
        (client_folder / "ack-decl.xml").write_text("<acknowledgement/>\n")
        (root / "outbox" / "1234" / "secret-of-1234.xml").write_text("<secret/>\n")
        host_key, _ = ensure_host_key(root / "host_key")
        uploads: list[tuple[str, str]] = []
        section = SftpSection(host="127.0.0.1", port=0, **settings)
        server = SftpServer(
            section, auth, host_key, on_upload=lambda s, n: uploads.append((s, n)), failure_floor=failure_floor
        )
        _, port = server.start()
        started.append(server)
        kh = root / "known_hosts"
        kh.write_text(known_hosts_line(host_key, "127.0.0.1", port) + "\n")
        return Site(root, server, port, kh, auth, key, uploads)

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


__all__ = ["NOT_VERIFIED", "PASSWORD", "Site", "known_hosts_for"]
