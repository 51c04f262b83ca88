"""Pure parts of the transport: completion rules, confinement, throttle, host key, local folders."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest
from openssh_kit import SSH_KEYGEN

from gateway.config import SftpSection
from gateway.errors import TransportError
from gateway.transport import Transport, safe_relpath
from gateway.transport.auth import Account, MemoryAuthenticator
from gateway.transport.hostkey import ensure_host_key
from gateway.transport.limits import (
    FDS_PER_CONNECTION,
    FDS_RESERVE,
    Admission,
    Caps,
    HandleBudget,
    address_key,
    fds_needed,
)
from gateway.transport.local import LocalTransport
from gateway.transport.names import Seen, Settler, is_temporary, non_colliding
from gateway.transport.throttle import Throttle
from gateway.transport.vfs import Area, Refused, Tree, normalize

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


# Completion rules ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", [".x.xml", "a.part", "a.PARTIAL", "a.filepart", "a.tmp", "a.crdownload", ".upload-1.part"]
)
def test_temporary_names(name: str) -> None:
    assert is_temporary(name)


def test_settle_done_marker_and_release() -> None:
    s = Settler(5.0, trust_mtime=False)
    files = [Seen("a.xml", 10, 100.0), Seen("b.xml", 10, 100.0), Seen("b.xml.done", 0, 100.0), Seen("c.part", 1, 1.0)]
    assert [e.name for e in s.complete("1", files, now_mono=0.0)] == ["b.xml"]  # released by its marker
    assert [e.name for e in s.complete("1", files, now_mono=4.9)] == ["b.xml"]
    assert [e.name for e in s.complete("1", files, now_mono=5.0)] == ["a.xml", "b.xml"]
    grown = [Seen("a.xml", 20, 101.0)]
    assert s.complete("1", grown, now_mono=6.0) == []  # changed: the settle time starts again
    s.release("1", Seen("a.xml", 20, 101.0))
    assert [e.name for e in s.complete("1", grown, now_mono=6.1)] == ["a.xml"]


def test_settle_trusts_local_mtime() -> None:
    s = Settler(5.0, trust_mtime=True)
    assert [e.name for e in s.complete("1", [Seen("old.xml", 1, 0.0)], now_wall=100.0, now_mono=0.0)] == ["old.xml"]
    assert s.complete("1", [Seen("new.xml", 1, 99.0)], now_wall=100.0, now_mono=0.0) == []


def test_non_colliding_keeps_extension() -> None:
    assert non_colliding("decl.xml", 2) == "decl (2).xml"
    assert non_colliding("decl.test.csv", 3) == "decl (3).test.csv"
    assert non_colliding("README", 2) == "README (2)"


# Confinement -------------------------------------------------------------------------------------------
def test_123_never_reaches_1234(tmp_path: Path) -> None:
    for sub in ("123", "1234"):
        (tmp_path / "inbox" / sub).mkdir(parents=True)
        (tmp_path / "outbox" / sub).mkdir(parents=True)
    tree = Tree(Account("123", tmp_path / "inbox" / "123", tmp_path / "outbox" / "123"))
    own = [str((tmp_path / area / "123").resolve()) for area in ("inbox", "outbox")]
    for path in ("/inbox/../1234", "/inbox/../../inbox/1234", "../../inbox/1234/x", "/inbox/../../../outbox/1234",
                 f"{tmp_path}/inbox/1234", "/inbox4/x", "/root"):
        try:
            r = tree.resolve(path)
        except Refused:
            continue
        # Whatever a path becomes, it stays inside 123's own folders (never 1234's, whose name shares a prefix).
        assert r.real is not None and any(os.path.commonpath([base, str(r.real)]) == base for base in own), path
    assert tree.resolve("inbox/x.xml").real == (tmp_path / "inbox" / "123" / "x.xml").resolve()
    assert tree.resolve("/../../").area is Area.ROOT
    os.symlink(tmp_path / "inbox" / "1234", tmp_path / "inbox" / "123" / "l")
    with pytest.raises(Refused):
        tree.resolve("/inbox/l/x.xml")  # a link is never followed, even one we did not create
    for bad in ("/inbox/a\x00b", "/inbox/a\\b"):
        with pytest.raises(Refused):
            normalize(bad)


def test_safe_relpath() -> None:
    assert str(safe_relpath("104512/ack.xml")) == "104512/ack.xml"
    for bad in ("", "/etc/x", "../x", "a/../../x", "a\\b", "a\x00b", "a//b/./c"):
        if bad == "a//b/./c":
            continue  # PurePosixPath normalises it harmlessly
        with pytest.raises(TransportError):
            safe_relpath(bad)


# Throttle and authenticator ----------------------------------------------------------------------------
def test_throttle_locks_the_pair_not_the_address_nor_the_subscriber_elsewhere() -> None:
    now = [0.0]
    t = Throttle(3, 10.0, clock=lambda: now[0])
    for _ in range(3):
        assert not t.locked("10.0.0.1", "111")
        t.failed("10.0.0.1", "111")
    assert t.locked("10.0.0.1", "111")
    assert not t.locked("10.0.0.1", "222")  # another subscriber behind the same NAT
    assert not t.locked("10.0.0.2", "111")  # the same subscriber from elsewhere
    t.failed("10.0.0.1", "111", locked=True)  # attempts while locked do not prolong the lockout
    now[0] = 10.0
    assert not t.locked("10.0.0.1", "111")
    t.failed("10.0.0.1", "111")
    t.succeeded("10.0.0.1", "111")
    assert not t.locked("10.0.0.1", "111")


def test_throttle_slows_an_address_down_doubling_up_to_a_cap() -> None:
    now = [0.0]
    t = Throttle(100, 60.0, floor=0.25, free=3, max_delay=2.0, clock=lambda: now[0])
    waits = []
    for i in range(8):
        waits.append(t.wait_before("10.0.0.1", f"{i:05d}"))  # spraying: a new subscriber number each time
        t.failed("10.0.0.1", f"{i:05d}")
    assert waits == [0.0, 0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 2.0]
    assert t.wait_before("10.0.0.2", "00000") == 0.0  # other addresses are not slowed
    now[0] = 60.0
    assert t.wait_before("10.0.0.1", "99999") == 0.0  # the failures aged out


def test_throttle_lets_a_pair_that_logged_in_through_and_keeps_the_address_count() -> None:
    t = Throttle(100, 60.0, floor=0.25, free=0, max_delay=2.0, clock=lambda: 0.0)
    t.failed("10.0.0.1", "111")
    assert t.wait_before("10.0.0.1", "222") == 0.5
    t.succeeded("10.0.0.1", "222")
    assert t.wait_before("10.0.0.1", "222") == 0.0  # it logged in from there: never slowed again
    assert t.wait_before("10.0.0.1", "333") == 0.5  # a login does not wipe the address's failures


def test_address_key() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")


def test_admission_caps() -> None:
    a = Admission(Caps(connections=4, per_address=3, unauthenticated_per_address=2, sessions_per_subscriber=1))
    assert a.admit("A") is None and a.admit("A") is None
    assert a.admit("A") == "unauthenticated"  # two silent sockets already
    assert a.log_in("A", "111")
    assert a.admit("A") is None
    assert a.admit("A") == "address"
    assert a.admit("B") is None
    assert a.admit("C") == "total"
    assert not a.log_in("B", "111")  # 111 already has its one session
    a.leave("A", "111")
    assert a.sessions("111") == 0 and a.log_in("B", "111")
    for _ in range(2):
        a.leave("A", None)
    a.leave("B", "111")
    assert a.total == 0 and a.admit("A") is None


def test_handle_budget_counts_every_channel() -> None:
    budget = HandleBudget(3)
    one, two = [0], [0]
    budget.attach(1, lambda: one[0])
    budget.attach(2, lambda: two[0])
    one[0], two[0] = 1, 1
    with budget.reserve() as ok:
        assert ok
        with budget.reserve() as second:
            assert not second  # the reservation counts until the handle is in its table
    two[0] = 2
    with budget.reserve() as ok:
        assert not ok
    budget.detach(2)
    assert budget.in_use() == 1


def test_fds_needed_follows_the_caps() -> None:
    assert fds_needed(SftpSection()) == 50 * (32 + FDS_PER_CONNECTION) + FDS_RESERVE
    assert fds_needed(SftpSection(max_connections=10, max_open_handles=8)) == 10 * (8 + FDS_PER_CONNECTION) + FDS_RESERVE


def test_memory_authenticator(tmp_path: Path) -> None:
    a = MemoryAuthenticator()
    acc = Account("12345", tmp_path, tmp_path)
    a.add(acc, password="pw", keys=(("ssh-ed25519", b"blob"),))
    assert a.password("12345", "pw") == acc
    assert a.password("12345", "no") is None and a.password("99999", "pw") is None
    assert a.public_key("12345", "ssh-ed25519", b"blob") == acc
    assert a.public_key("12345", "ssh-rsa", b"blob") is None
    a.set_disabled("12345", True)
    assert a.password("12345", "pw") is None and a.public_key("12345", "ssh-ed25519", b"blob") is None


# Host key ----------------------------------------------------------------------------------------------
def test_host_key_generated_0600_stable_and_openssh_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "host_key"
    key, fp = ensure_host_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert key.get_name() == "ssh-ed25519"
    key2, fp2 = ensure_host_key(path)
    assert fp2 == fp and key2.asbytes() == key.asbytes()  # never regenerated over a pinned key
    if SSH_KEYGEN:
        out = subprocess.run([SSH_KEYGEN, "-lf", str(path)], capture_output=True, text=True, check=True).stdout
        assert fp in out
    path.chmod(0o644)
    ensure_host_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


# Local folders -----------------------------------------------------------------------------------------
def test_local_transport_round_trip(tmp_path: Path) -> None:
    t = LocalTransport(tmp_path / "inbox", tmp_path / "outbox", settle_seconds=3600)
    assert isinstance(t, Transport)
    inbox = t.inbox("12345")
    inbox.mkdir(parents=True)
    (inbox / "a.xml").write_bytes(b"<a/>")
    (inbox / "b.xml").write_bytes(b"<b/>")
    (inbox / "b.xml.done").write_bytes(b"")
    (inbox / ".hidden").write_bytes(b"")
    os.symlink("/etc/passwd", inbox / "c.xml")
    os.mkfifo(inbox / "d.xml")
    assert [i.name for i in t.list_complete("12345")] == ["b.xml"]
    t.release("12345", "a.xml")  # what the SFTP server's on_upload does
    items = t.list_complete("12345")
    assert sorted(i.name for i in items) == ["a.xml", "b.xml"]
    b = next(i for i in items if i.name == "b.xml")
    fetched = t.fetch(b, tmp_path / "work")
    assert fetched is not None and fetched.path.read_bytes() == b"<b/>" and fetched.path.name.startswith("upload-")
    assert t.fetch(b, tmp_path / "work") is None  # claimed once
    t.ack(fetched)
    assert sorted(os.listdir(inbox)) == [".hidden", "a.xml", "c.xml", "d.xml"]
    src = tmp_path / "doc.pdf"
    src.write_bytes(b"%PDF")
    t.publish("12345", "104512/doc.pdf", src)
    assert (tmp_path / "outbox" / "12345" / "104512" / "doc.pdf").read_bytes() == b"%PDF"
    assert os.listdir(tmp_path / "outbox" / "12345" / "104512") == ["doc.pdf"]
    t.remove("12345", "104512/doc.pdf")
    t.remove("12345", "104512/doc.pdf")
    with pytest.raises(TransportError):
        t.inbox("../12345")


# Boundary ----------------------------------------------------------------------------------------------
def test_paramiko_imported_only_in_transport() -> None:
    offenders = []
    for path in GATEWAY.rglob("*.py"):
        if "transport" in path.relative_to(GATEWAY).parts[:1]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "paramiko" for n in names):
                offenders.append(str(path))
    assert offenders == []
