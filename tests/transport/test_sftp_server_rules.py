"""The built-in server's rules seen from a paramiko client: atomic uploads, limits, refusals with reasons."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager

import paramiko
import pytest
from conftest import NOT_VERIFIED, PASSWORD, Site


@contextmanager
def connect(site: Site, user: str = "123", password: str = PASSWORD) -> Iterator[tuple[paramiko.Transport, paramiko.SFTPClient]]:
    t = paramiko.Transport(("127.0.0.1", site.port))
    try:
        t.connect(username=user, password=password)
        sftp = paramiko.SFTPClient.from_transport(t)
        assert sftp is not None
        yield t, sftp
    finally:
        t.close()


def inbox(site: Site, sub: str = "123") -> list[str]:
    return sorted(os.listdir(site.inbox(sub)))


def wait_empty_of_temporaries(site: Site, sub: str = "123") -> None:
    deadline = time.monotonic() + 5
    while any(n.startswith(".upload-") for n in inbox(site, sub)) and time.monotonic() < deadline:
        time.sleep(0.02)


def wait_disconnected(site: Site) -> None:
    """The server notices a closed connection within a poll interval."""
    deadline = time.monotonic() + 5
    while site.server.connections and time.monotonic() < deadline:
        time.sleep(0.02)


def test_transport_dropped_mid_write_leaves_nothing(site: Site) -> None:
    with connect(site) as (t, sftp):
        fh = sftp.open("/inbox/cut.xml", "wb")
        fh.write(b"x" * 300_000)
        fh.flush()
        assert any(n.startswith(".upload-") for n in inbox(site))  # the bytes are arriving, hidden
        t.close()  # no SFTP close request: the session just ends
    wait_empty_of_temporaries(site)
    assert inbox(site) == []
    assert site.uploads == []


def test_channel_closed_mid_write_leaves_nothing_even_if_transport_lives(site: Site) -> None:
    with connect(site) as (t, sftp):
        fh = sftp.open("/inbox/cut.xml", "wb")
        fh.write(b"x" * 100_000)
        fh.flush()
        sftp.get_channel().close()  # the SFTP session ends, the SSH connection stays up
        time.sleep(0.3)
        assert t.is_active()
        wait_empty_of_temporaries(site)
        assert inbox(site) == []


def test_clean_close_publishes_and_wakes_intake(site: Site) -> None:
    with connect(site) as (_, sftp):
        with sftp.open("/inbox/ok.xml", "wb") as fh:
            fh.write(b"<ok/>")
        assert sftp.listdir("/inbox") == ["ok.xml"]
    assert inbox(site) == ["ok.xml"]
    assert site.uploads == [("123", "ok.xml")]
    assert stat.S_IMODE(os.stat(site.inbox("123") / "ok.xml").st_mode) == 0o600


def test_setstat_never_truncates_nor_changes_mode(site: Site) -> None:
    (site.inbox("123") / "kept.xml").write_bytes(b"12345")
    with connect(site) as (_, sftp):
        with pytest.raises(IOError):
            sftp.truncate("/inbox/kept.xml", 0)
        sftp.chmod("/inbox/kept.xml", 0o777)  # accepted and ignored, so `put -p` keeps working
        with sftp.open("/inbox/new.xml", "wb") as fh:
            fh.write(b"abc")
            with pytest.raises(IOError):
                fh.truncate(0)
            fh.chmod(0o4777)
    assert (site.inbox("123") / "kept.xml").read_bytes() == b"12345"
    assert stat.S_IMODE(os.stat(site.inbox("123") / "kept.xml").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(site.inbox("123") / "new.xml").st_mode) == 0o600


def test_refusal_message_gives_the_reason(site: Site) -> None:
    with connect(site, "777") as (_, sftp):
        with pytest.raises(PermissionError) as err:
            sftp.open("/inbox/decl.xml", "wb")
        assert NOT_VERIFIED in str(err.value)
        with sftp.open("/inbox/email-verification.txt", "wb") as fh:
            fh.write(b"123456")
    assert inbox(site, "777") == ["email-verification.txt"]


def test_rename_never_overwrites_posix_rename_does(site: Site) -> None:
    with connect(site) as (_, sftp):
        for name in ("a.xml.part", "b.xml"):
            with sftp.open(f"/inbox/{name}", "wb") as fh:
                fh.write(name.encode())
        assert site.uploads == [("123", "b.xml")]  # the .part name does not wake intake
        with pytest.raises(IOError):
            sftp.rename("/inbox/a.xml.part", "/inbox/b.xml")
        sftp.rename("/inbox/a.xml.part", "/inbox/a.xml")
        sftp.posix_rename("/inbox/a.xml", "/inbox/b.xml")
    assert inbox(site) == ["b.xml"]
    assert (site.inbox("123") / "b.xml").read_bytes() == b"a.xml.part"
    assert site.uploads == [("123", "b.xml"), ("123", "a.xml"), ("123", "b.xml")]


def test_reserved_names_nul_and_backslash_refused(site: Site) -> None:
    with connect(site) as (_, sftp):
        for bad in ("/inbox/.upload-x.part", "/inbox/a\\b.xml", "/inbox/a\x00b.xml", "/inbox/sub/x.xml"):
            with pytest.raises(IOError):
                sftp.open(bad, "wb")
        with pytest.raises(IOError):
            sftp.open("/inbox/x.xml", "ab")  # append/resume cannot be atomic
    assert inbox(site) == []


def test_file_size_limit(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_upload_bytes=100_000)
    with connect(site) as (_, sftp):
        fh = sftp.open("/inbox/big.xml", "wb")
        with pytest.raises(IOError):
            fh.write(b"x" * 200_000)
            fh.close()
    wait_empty_of_temporaries(site)
    assert inbox(site) == []


def test_open_handle_limit(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_open_handles=3)
    (site.outbox("123") / "r.xml").write_text("r")
    with connect(site) as (_, sftp):
        handles = [sftp.open("/outbox/r.xml", "rb") for _ in range(3)]
        with pytest.raises(IOError):
            sftp.open("/outbox/r.xml", "rb")
        handles[0].close()
        sftp.open("/outbox/r.xml", "rb").close()


def test_sessions_per_subscriber_and_connections_limits(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_sessions_per_subscriber=1, max_connections=3)
    with connect(site):
        with pytest.raises(paramiko.SSHException), connect(site):
            pass
        with connect(site, "1234", "other-password"):  # another subscriber is not affected
            pass
    wait_disconnected(site)
    with connect(site):  # the slot came back
        pass
    wait_disconnected(site)
    socks = [socket.create_connection(("127.0.0.1", site.port)) for _ in range(3)]
    try:
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", site.port))
        extra.settimeout(5)
        assert extra.recv(100) == b""  # closed at once, before any banner
        extra.close()
    finally:
        for s in socks:
            s.close()


def test_throttle_locks_account_then_releases(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_failed_logins=3, lockout_seconds=1.5)
    for _ in range(3):
        with pytest.raises(paramiko.AuthenticationException), connect(site, "1234", "guess"):
            pass
    # Locked: even the right password fails.
    with pytest.raises(paramiko.AuthenticationException), connect(site, "1234", "other-password"):
        pass
    time.sleep(1.6)
    with connect(site, "1234", "other-password"):
        pass


def test_unknown_and_wrong_password_take_the_same_time(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(failure_floor=0.3, max_failed_logins=100, slowdown_after_failures=100)
    times: dict[str, list[float]] = {"unknown": [], "wrong": []}
    for _ in range(3):
        for label, user in (("unknown", "98765"), ("wrong", "123")):
            t = paramiko.Transport(("127.0.0.1", site.port))  # paramiko refuses a change of name mid-flight
            t.start_client()
            try:
                start = time.monotonic()
                with pytest.raises(paramiko.AuthenticationException) as err:
                    t.auth_password(user, "nope")
                times[label].append(time.monotonic() - start)
                assert "Authentication failed" in str(err.value)
            finally:
                t.close()
    for values in times.values():
        assert all(0.29 <= v < 0.6 for v in values), times


def test_login_and_idle_timeouts(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(auth_timeout_seconds=0.5, idle_timeout_seconds=0.7)
    t = paramiko.Transport(("127.0.0.1", site.port))
    t.start_client()
    time.sleep(1.3)
    assert not t.is_active()  # never logged in: dropped
    t.close()
    with connect(site) as (t2, sftp):
        sftp.listdir("/")
        time.sleep(1.5)
        assert not t2.is_active()  # idle: dropped


def test_stop_discards_uploads_in_progress(site: Site) -> None:
    with connect(site) as (_, sftp):
        fh = sftp.open("/inbox/x.xml", "wb")
        fh.write(b"x" * 50_000)
        fh.flush()
        site.server.stop()
    wait_empty_of_temporaries(site)
    assert inbox(site) == []
    assert site.server.connections == 0
