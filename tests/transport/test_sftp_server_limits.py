"""What one client may hold of the built-in server, over real sockets and the stock OpenSSH client.

Other addresses are real: Linux answers on all of 127.0.0.0/8, so a socket bound to 127.0.0.2 (or
``sftp -o BindAddress=127.0.0.2``) reaches the server from another address than the 127.0.0.1 clients.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import paramiko
import pytest
from conftest import PASSWORD, Site
from openssh_kit import SFTP, SSHPASS, run_sftp
from paramiko.sftp import CMD_HANDLE, CMD_OPENDIR

from gateway.transport.limits import FDS_PER_CONNECTION

needs_openssh = pytest.mark.skipif(not (SFTP and SSHPASS), reason="OpenSSH client or sshpass not installed")
OTHER = "127.0.0.2"


def tcp(site: Site, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", site.port), timeout=10, source_address=(source, 0))


@contextmanager
def logged_in(site: Site, user: str = "123", password: str = PASSWORD, source: str = "127.0.0.1") -> Iterator[paramiko.Transport]:
    t = paramiko.Transport(tcp(site, source))
    try:
        t.connect(username=user, password=password)
        yield t
    finally:
        t.close()


def attempt(site: Site, user: str, password: str, source: str = "127.0.0.1") -> tuple[bool, float]:
    """One password attempt on a fresh connection: (accepted, seconds from request to answer)."""
    t = paramiko.Transport(tcp(site, source))
    try:
        t.start_client(timeout=10)
        start = time.monotonic()
        try:
            t.auth_password(user, password)
            return True, time.monotonic() - start
        except paramiko.AuthenticationException:
            return False, time.monotonic() - start
    finally:
        t.close()


def until_closed(s: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Read until the server closes: (what it sent, seconds it took)."""
    s.settimeout(timeout)
    start, got = time.monotonic(), b""
    try:
        while chunk := s.recv(4096):
            got += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return got, time.monotonic() - start


@needs_openssh
def test_silent_sockets_from_one_address_lock_nobody_else_out_and_are_dropped(make_site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site = make_site(auth_timeout_seconds=2.0)  # 10 not logged in per address (the default)
    connected = time.monotonic()
    silent = [tcp(site) for _ in range(50)]
    try:
        # A subscriber from another address logs in and works while the 50 sockets are open.
        r = run_sftp(site.port, "123", site.known_hosts, ["ls /outbox"], tmp_path, password=PASSWORD, bind=OTHER)
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - connected < 2.0, "too slow to tell: the silent sockets may be gone already"
        first = []
        for s in silent:
            s.settimeout(1.0)
            first.append(s.recv(100))
        admitted = [s for s, got in zip(silent, first, strict=True) if got.startswith(b"SSH-2.0-")]
        # Over the per-address cap: closed at once, before any banner.
        assert len(admitted) == 10 and first.count(b"") == 40, first
        dropped = []
        for s in admitted:  # the admitted ones are dropped at the login deadline, counted from their connect
            until_closed(s, 10)
            dropped.append(time.monotonic() - connected)
    finally:
        for s in silent:
            s.close()
    assert 1.9 <= min(dropped) and max(dropped) < 2.0 + 1.0, dropped
    deadline = time.monotonic() + 5
    while site.server.admission.total and time.monotonic() < deadline:
        time.sleep(0.05)
    assert site.server.admission.total == 0


def test_connections_per_address_cap_spares_other_addresses(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_connections_per_address=2, max_unauthenticated_per_address=2)
    with logged_in(site), logged_in(site, "1234", "other-password"):
        extra = tcp(site)
        assert until_closed(extra, 5)[0] == b""  # two from 127.0.0.1 already: refused at once
        extra.close()
        with logged_in(site, "777", PASSWORD, source=OTHER):
            pass


@needs_openssh
def test_subscriber_over_its_cap_is_refused_at_login(make_site, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_sessions_per_subscriber=2)
    # Two logged-in connections without a single channel: the cap used to be checked at the channel only.
    with logged_in(site), logged_in(site, source=OTHER), caplog.at_level(logging.WARNING, "gateway.transport"):
        r = run_sftp(site.port, "123", site.known_hosts, ["ls /"], tmp_path, key=site.key.private)
        assert r.returncode != 0
        # OpenSSH prints the reason ("Received disconnect …:12: trop de connexions simultanées pour l'abonné
        # 123 (maximum 2)…"), its accents escaped outside a UTF-8 locale.
        assert "trop de connexions simultan" in r.stderr and "123 (maximum 2)" in r.stderr, r.stderr
        r = run_sftp(site.port, "123", site.known_hosts, ["ls /"], tmp_path, password=PASSWORD)
        assert r.returncode != 0
        with pytest.raises(paramiko.SSHException), logged_in(site):
            pass
        assert site.server.admission.sessions("123") == 2
        r = run_sftp(site.port, "1234", site.known_hosts, ["ls /"], tmp_path, password="other-password")
        assert r.returncode == 0, r.stderr  # another subscriber is not affected
    refusals = [r for r in caplog.records if r.getMessage() == "sftp.sessions.limit"]
    assert len(refusals) == 3 and refusals[0].fields["subscriber"] == "123"  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while site.server.admission.sessions("123") and time.monotonic() < deadline:
        time.sleep(0.05)
    r = run_sftp(site.port, "123", site.known_hosts, ["ls /"], tmp_path, password=PASSWORD)
    assert r.returncode == 0, r.stderr  # the slots came back


def test_open_handles_capped_per_connection_across_channels(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_open_handles=4)
    (site.outbox("123") / "r.xml").write_text("r")
    with logged_in(site) as t:
        channels = [paramiko.SFTPClient.from_transport(t) for _ in range(2)]
        assert all(channels)
        a, b = channels
        assert a is not None and b is not None
        held = [a.open("/outbox/r.xml", "rb"), a.open("/outbox/r.xml", "rb"), b.open("/outbox/r.xml", "rb")]
        folder = b._request(CMD_OPENDIR, "/outbox")  # folders count too (paramiko's client has no opendir)
        for sftp in (a, b):
            with pytest.raises(IOError, match="trop de fichiers ouverts sur cette connexion"):
                sftp.open("/outbox/r.xml", "rb")
        held[0].close()
        b.open("/outbox/r.xml", "rb").close()
        a.get_channel().close()  # a channel that ends gives its handles back
        time.sleep(0.3)
        b.open("/outbox/r.xml", "rb").close()
        b.open("/outbox/r.xml", "rb").close()
        assert folder[0] == CMD_HANDLE


def test_descriptors_of_one_connection_stay_within_the_margin(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_open_handles=8)
    (site.outbox("123") / "r.xml").write_text("r")
    before = len(os.listdir("/proc/self/fd"))
    with logged_in(site) as t:
        channels = [paramiko.SFTPClient.from_transport(t) for _ in range(4)]
        handles = [c.open("/outbox/r.xml", "rb") for c in channels for _ in range(2) if c is not None]
        time.sleep(0.2)
        # Both ends live in this process: the client's socket is 1; the rest is the server's.
        used = len(os.listdir("/proc/self/fd")) - before - 1
        assert len(handles) == 8
        assert used <= 8 + FDS_PER_CONNECTION, used


@needs_openssh
def test_lockout_is_per_address_and_subscriber(make_site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site = make_site(max_failed_logins=5, lockout_seconds=60)
    for _ in range(5):
        assert attempt(site, "1234", "guess") == (False, pytest.approx(0.05, abs=5))
    assert not attempt(site, "1234", "other-password")[0]  # locked, the right password included
    # Subscriber 123 behind the same address (an accounting firm's NAT) still logs in, with OpenSSH.
    r = run_sftp(site.port, "123", site.known_hosts, ["ls /"], tmp_path, password=PASSWORD)
    assert r.returncode == 0, r.stderr
    # And 1234 itself from another address.
    assert attempt(site, "1234", "other-password", source=OTHER)[0]


def test_failures_from_one_address_are_slowed_down_growing_and_capped(make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(failure_floor=0.05, slowdown_after_failures=2, max_failure_delay_seconds=0.8,
                     max_failed_logins=100)
    with logged_in(site):  # 123 logged in from 127.0.0.1 before the spraying starts
        pass
    times = [attempt(site, f"9{i:04d}", "Printemps2026")[1] for i in range(8)]  # one password, many numbers
    # floor, floor, then the wait doubles from the floor: 0.05 0.1 0.2 0.4 0.8 0.8 (+ the floor each)
    assert max(times[:2]) < 0.3, times
    assert times[4] > times[2] + 0.1 and times[5] > times[4], times
    assert 0.8 <= times[-1] < 0.8 + 0.6, times  # capped
    ok, seconds = attempt(site, "1234", "other-password")  # never failed, never logged in from here: waits,
    assert ok and 0.8 <= seconds < 0.8 + 0.6  # but is let in
    ok, seconds = attempt(site, "123", PASSWORD)  # logged in from here before: not slowed at all
    assert ok and seconds < 0.3
    assert attempt(site, "99999", "x", source=OTHER)[1] < 0.3  # other addresses are not slowed


FD_SCRIPT = """
import resource, sys
from gateway.config import SftpSection
from gateway.errors import TransportError
from gateway.transport.limits import ensure_fd_limit
soft, hard = map(int, sys.argv[1:3])
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
try:
    needed, now = ensure_fd_limit(SftpSection())
except TransportError as exc:
    print("refused", exc)
else:
    print("ok", needed, now, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_fd_limit_raised_to_cover_the_caps_or_start_refused() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip("hard RLIMIT_NOFILE below 4096 here")

    def run(soft: int, hard: int) -> str:
        r = subprocess.run([sys.executable, "-c", FD_SCRIPT, str(soft), str(hard)], capture_output=True, text=True,
                           check=True, timeout=60)
        return r.stdout.strip()

    assert run(1024, 4096) == "ok 2256 2256 2256"  # 50 × (32 + 8) + 256: the soft limit raised
    out = run(1024, 2000)
    assert out.startswith("refused") and "2256" in out and "LimitNOFILE" in out


def test_a_public_key_offered_without_its_private_key_takes_no_slot(make_site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openssh_kit import keygen

    site = make_site(max_sessions_per_subscriber=1)
    stranger = paramiko.Ed25519Key(filename=str(keygen(tmp_path / "stranger").private))
    stranger.asbytes = lambda: site.key.blob  # type: ignore[method-assign]  # 123's public key, signed by another
    for _ in range(3):  # public keys are no secret: showing one must not take 123's sessions
        t = paramiko.Transport(tcp(site))
        try:
            t.start_client(timeout=10)
            with pytest.raises(paramiko.AuthenticationException):
                t.auth_publickey("123", stranger)
            assert site.server.admission.sessions("123") == 0
        finally:
            t.close()
    with logged_in(site):
        assert site.server.admission.sessions("123") == 1


def test_logins_while_the_database_is_down_lock_nobody_out(make_site, caplog) -> None:  # type: ignore[no-untyped-def]
    """A login the server cannot check (the database unreachable) is refused, but it is not a wrong password:
    more attempts than the lockout allows, then the database returns, and the right password logs in."""
    from gateway.errors import DatabaseUnavailable

    site = make_site(max_failed_logins=3, lockout_seconds=60)
    real = site.auth.password

    def down(username: str, password: str):  # type: ignore[no-untyped-def]
        raise DatabaseUnavailable("base de données: OperationalError: connection refused")

    site.auth.password = down  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            assert not attempt(site, "123", PASSWORD)[0]
    assert any("sftp.auth.unavailable" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records if "sftp.auth" in r.getMessage()), "a traceback per login"
    site.auth.password = real  # type: ignore[method-assign]
    assert attempt(site, "123", PASSWORD)[0], "locked out by the database's outage"
