"""The gateway's SFTP client (remote mode) against a real OpenSSH sshd started by the test."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from openssh_kit import SSHD, KeyPair, Sshd, keygen

from gateway.errors import TransportError
from gateway.transport import Transport
from gateway.transport.sftp_client import RemoteEndpoint, SftpTransport

pytestmark = pytest.mark.skipif(SSHD is None, reason="OpenSSH server (sshd) not installed")


@pytest.fixture
def client_key(tmp_path: Path) -> KeyPair:
    return keygen(tmp_path / "gateway_ed25519")


@pytest.fixture
def sshd(tmp_path: Path, client_key: KeyPair) -> Iterator[Sshd]:
    server = Sshd(tmp_path / "sshd", [client_key]).start()
    yield server
    server.stop()


@pytest.fixture
def remote_root(tmp_path: Path) -> Path:
    root = tmp_path / "remote"
    (root / "inbox" / "123").mkdir(parents=True)
    (root / "outbox" / "123").mkdir(parents=True)
    return root


def endpoint(sshd: Sshd, key: KeyPair, root: Path, tmp_path: Path, **kw: object) -> RemoteEndpoint:
    kh = sshd.known_hosts(tmp_path / "pinned_known_hosts")
    defaults: dict[str, object] = {
        "host": "127.0.0.1", "port": sshd.port, "user": sshd.user, "key_file": key.private, "known_hosts": kh,
        "inbox": f"{root}/inbox/{{subscriber}}", "outbox": f"{root}/outbox/{{subscriber}}",
        "settle_seconds": 0.0, "connect_timeout": 5.0, "retries": 1, "backoff_seconds": 0.05,
    }
    defaults.update(kw)
    return RemoteEndpoint(**defaults)  # type: ignore[arg-type]


def test_pull_then_ack_removes(sshd: Sshd, client_key: KeyPair, remote_root: Path, tmp_path: Path) -> None:
    inbox = remote_root / "inbox" / "123"
    payload = os.urandom(300_000)
    (inbox / "decl.xml").write_bytes(payload)
    (inbox / "decl.xml.done").write_bytes(b"")
    (inbox / "half.xml.part").write_bytes(b"x")
    (inbox / ".hidden.xml").write_bytes(b"x")
    os.symlink("/etc/passwd", inbox / "link.xml")
    t = SftpTransport(endpoint(sshd, client_key, remote_root, tmp_path))
    assert isinstance(t, Transport)
    try:
        items = t.list_complete("123")
        assert [i.name for i in items] == ["decl.xml"]
        work = tmp_path / "work"
        fetched = t.fetch(items[0], work)
        assert fetched is not None
        assert fetched.path.parent == work and fetched.path.name.startswith("upload-")  # generated, not "decl.xml"
        assert fetched.path.read_bytes() == payload
        assert fetched.sha256 == hashlib.sha256(payload).hexdigest() and fetched.size == len(payload)
        assert (inbox / "decl.xml").exists()  # nothing removed before the caller commits
        t.ack(fetched)
        assert sorted(os.listdir(inbox)) == [".hidden.xml", "half.xml.part", "link.xml"]
        t.ack(fetched)  # acknowledging twice (a retry) is harmless
        assert [p.name for p in work.iterdir()] == [fetched.path.name]  # no temporary file left
    finally:
        t.close()


def test_settle_time_and_archive(sshd: Sshd, client_key: KeyPair, remote_root: Path, tmp_path: Path) -> None:
    (remote_root / "inbox" / "123" / "a.csv").write_text("employer;period\n")
    archive = remote_root / "archive"
    clock = [0.0]
    t = SftpTransport(endpoint(sshd, client_key, remote_root, tmp_path, settle_seconds=2.0,
                               archive=f"{archive}/{{subscriber}}"), monotonic=lambda: clock[0])
    try:
        assert t.list_complete("123") == []  # first sight: waits for the settle time
        clock[0] = 2.5
        items = t.list_complete("123")
        assert [i.name for i in items] == ["a.csv"]
        fetched = t.fetch(items[0], tmp_path / "work")
        assert fetched is not None
        t.ack(fetched)
        assert os.listdir(remote_root / "inbox" / "123") == []
        archived = os.listdir(archive / "123")
        assert len(archived) == 1 and archived[0].endswith("-a.csv")
    finally:
        t.close()


def test_push_part_then_rename(sshd: Sshd, client_key: KeyPair, remote_root: Path, tmp_path: Path) -> None:
    src = tmp_path / "ack.xml"
    src.write_bytes(b"<acknowledgement/>")
    t = SftpTransport(endpoint(sshd, client_key, remote_root, tmp_path))
    try:
        t.publish("123", "104512/ack.xml", src)
        src.write_bytes(b"<acknowledgement v='2'/>")
        t.publish("123", "104512/ack.xml", src)  # replaces atomically
        target = remote_root / "outbox" / "123" / "104512"
        assert os.listdir(target) == ["ack.xml"]
        assert (target / "ack.xml").read_bytes() == b"<acknowledgement v='2'/>"
        t.remove("123", "104512/ack.xml")
        t.remove("123", "104512/ack.xml")
        assert os.listdir(target) == []
        with pytest.raises(TransportError):
            t.publish("123", "../escape.xml", src)
    finally:
        t.close()


def test_reconnects_after_connection_loss(sshd: Sshd, client_key: KeyPair, remote_root: Path, tmp_path: Path) -> None:
    (remote_root / "inbox" / "123" / "a.xml").write_text("<a/>")
    t = SftpTransport(endpoint(sshd, client_key, remote_root, tmp_path))
    try:
        assert len(t.list_complete("123")) == 1
        assert t._ssh is not None
        t._ssh.get_transport().sock.close()  # the network drops the connection
        assert len(t.list_complete("123")) == 1
    finally:
        t.close()


def test_changed_host_key_refused(sshd: Sshd, client_key: KeyPair, remote_root: Path, tmp_path: Path) -> None:
    ep = endpoint(sshd, client_key, remote_root, tmp_path)
    sshd.replace_host_key()  # the pinned key no longer matches
    t = SftpTransport(ep)
    try:
        with pytest.raises(TransportError, match="CHANGÉE"):
            t.list_complete("123")
    finally:
        t.close()


def test_unknown_host_refused(sshd: Sshd, client_key: KeyPair, remote_root: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    t = SftpTransport(endpoint(sshd, client_key, remote_root, tmp_path, known_hosts=empty))
    try:
        with pytest.raises(TransportError, match="known_hosts"):
            t.list_complete("123")
        assert empty.read_text() == ""  # never added
    finally:
        t.close()


def test_unregistered_key_refused_without_retry(sshd: Sshd, remote_root: Path, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    t = SftpTransport(endpoint(sshd, stranger, remote_root, tmp_path, retries=3, backoff_seconds=5.0))
    try:
        with pytest.raises(TransportError, match="authentification"):
            t.list_complete("123")
    finally:
        t.close()


def test_unreachable_server_retries_then_fails(tmp_path: Path, client_key: KeyPair) -> None:
    from openssh_kit import free_port

    kh = tmp_path / "kh"
    kh.write_text("")
    slept: list[float] = []
    ep = RemoteEndpoint(host="127.0.0.1", port=free_port(), user="x", key_file=client_key.private, known_hosts=kh,
                        retries=3, backoff_seconds=0.5, connect_timeout=2.0)
    t = SftpTransport(ep, sleep=slept.append)
    with pytest.raises(TransportError):
        t.list_complete("123")
    assert slept == [0.5, 1.0, 2.0]  # exponential backoff
