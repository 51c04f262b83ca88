"""The built-in server against OpenSSH's stock ``sftp`` and ``ssh`` clients (real processes, 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import NOT_VERIFIED, PASSWORD, Site
from openssh_kit import SFTP, SSH, SSHPASS, client_options, run_sftp, sftp_command

pytestmark = pytest.mark.skipif(not (SFTP and SSH and SSHPASS), reason="OpenSSH client or sshpass not installed")


def listing(site: Site, subscriber: str) -> list[str]:
    return sorted(os.listdir(site.inbox(subscriber)))


def test_password_login_upload_and_acknowledgement_download(site: Site, tmp_path: Path) -> None:
    upload = tmp_path / "decl-2026-11.xml"
    upload.write_bytes(b"<declarations/>\n" * 100)
    got = tmp_path / "ack.xml"
    r = run_sftp(
        site.port, "123", site.known_hosts,
        ["pwd", "ls /", f"put {upload} /inbox/", "ls /inbox", f"get /outbox/104512/ack-decl.xml {got}"],
        tmp_path, password=PASSWORD,
    )
    assert r.returncode == 0, r.stderr
    assert "Remote working directory: /" in r.stdout
    assert (site.inbox("123") / "decl-2026-11.xml").read_bytes() == upload.read_bytes()
    assert listing(site, "123") == ["decl-2026-11.xml"]  # no temporary file left behind
    assert got.read_text() == "<acknowledgement/>\n"
    assert site.uploads == [("123", "decl-2026-11.xml")]


def test_key_login(site: Site, tmp_path: Path) -> None:
    f = tmp_path / "k.csv"
    f.write_text("employer;period\n")
    r = run_sftp(site.port, "123", site.known_hosts, [f"put {f} /inbox/k.csv"], tmp_path, key=site.key.private)
    assert r.returncode == 0, r.stderr
    assert listing(site, "123") == ["k.csv"]


def test_same_name_twice_keeps_both(site: Site, tmp_path: Path) -> None:
    f = tmp_path / "decl.test.csv"
    f.write_text("a\n")
    r = run_sftp(site.port, "123", site.known_hosts, [f"put {f} /inbox/", f"put {f} /inbox/"], tmp_path, password=PASSWORD)
    assert r.returncode == 0, r.stderr
    assert listing(site, "123") == ["decl (2).test.csv", "decl.test.csv"]


def test_wrong_password_unknown_and_disabled_refused(site: Site, tmp_path: Path) -> None:
    for user, pw in (("123", "wrong"), ("99999", PASSWORD), ("555", PASSWORD)):
        r = run_sftp(site.port, user, site.known_hosts, ["ls /"], tmp_path, password=pw)
        assert r.returncode != 0
        assert "Permission denied" in r.stderr, r.stderr


def test_other_key_refused(site: Site, tmp_path: Path) -> None:
    from openssh_kit import keygen

    stranger = keygen(tmp_path / "stranger")
    r = run_sftp(site.port, "123", site.known_hosts, ["ls /"], tmp_path, key=stranger.private)
    assert r.returncode != 0
    # A registered key works for its own subscriber only.
    r = run_sftp(site.port, "1234", site.known_hosts, ["ls /"], tmp_path, key=site.key.private)
    assert r.returncode != 0


@pytest.mark.parametrize(
    "command",
    [
        "ls /inbox/../../1234",
        "ls /../outbox/../../1234",
        "get /outbox/../../outbox/1234/secret-of-1234.xml {tmp}/stolen",
        "get ../1234/secret-of-1234.xml {tmp}/stolen",
        "get /etc/passwd {tmp}/stolen",
        "ls {root}/outbox/1234",
        "get {root}/outbox/1234/secret-of-1234.xml {tmp}/stolen",
        "put {tmp}/f.xml /outbox/104512/f.xml",
        "put {tmp}/f.xml /f.xml",
        "put {tmp}/f.xml /inbox/../../1234/f.xml",
        "put {tmp}/f.xml {root}/inbox/1234/f.xml",
        "symlink /outbox/104512/ack-decl.xml /inbox/link.xml",
        "symlink /etc/passwd /inbox/passwd",
        "ln /outbox/104512/ack-decl.xml /inbox/hard.xml",
        "mkdir /inbox/sub",
        "rm /outbox/104512/ack-decl.xml",
        "rename /outbox/104512/ack-decl.xml /inbox/ack.xml",
        "chmod 777 /outbox/104512/ack-decl.xml",
    ],
)
def test_escapes_refused(site: Site, tmp_path: Path, command: str) -> None:
    (tmp_path / "f.xml").write_text("<x/>")
    cmd = command.format(tmp=tmp_path, root=site.root)
    r = run_sftp(site.port, "123", site.known_hosts, [cmd], tmp_path, password=PASSWORD)
    assert r.returncode != 0, r.stdout
    assert not (tmp_path / "stolen").exists()
    assert listing(site, "1234") == []
    assert listing(site, "123") == []
    assert (site.outbox("123") / "104512" / "ack-decl.xml").read_text() == "<acknowledgement/>\n"
    assert sorted(os.listdir(site.outbox("123") / "104512")) == ["ack-decl.xml"]
    assert site.uploads == []


def test_planted_symlink_is_not_followed(site: Site, tmp_path: Path) -> None:
    # Even a link that somehow appears in a subscriber's folder leads nowhere.
    os.symlink(site.outbox("1234"), site.outbox("123") / "elsewhere")
    os.symlink(site.outbox("1234") / "secret-of-1234.xml", site.outbox("123") / "s.xml")
    for cmd in (f"get /outbox/s.xml {tmp_path}/stolen", f"get /outbox/elsewhere/secret-of-1234.xml {tmp_path}/stolen",
                "ls /outbox/elsewhere"):
        r = run_sftp(site.port, "123", site.known_hosts, [cmd], tmp_path, password=PASSWORD)
        assert r.returncode != 0
    assert not (tmp_path / "stolen").exists()
    r = run_sftp(site.port, "123", site.known_hosts, ["ls -1 /outbox"], tmp_path, password=PASSWORD)
    assert "elsewhere" not in r.stdout and "s.xml" not in r.stdout


def test_uploads_refused_until_email_verified(site: Site, tmp_path: Path) -> None:
    f = tmp_path / "decl.xml"
    f.write_text("<d/>")
    r = run_sftp(site.port, "777", site.known_hosts, [f"put {f} /inbox/"], tmp_path, password=PASSWORD)
    assert r.returncode != 0
    assert "Permission denied" in r.stderr
    assert listing(site, "777") == []
    proof = tmp_path / "email-verification.txt"
    proof.write_text("123456\n")
    r = run_sftp(site.port, "777", site.known_hosts, ["ls /outbox", f"put {proof} /inbox/"], tmp_path, password=PASSWORD)
    assert r.returncode == 0, r.stderr
    assert listing(site, "777") == ["email-verification.txt"]
    assert NOT_VERIFIED  # the message itself is checked with paramiko, which shows it (OpenSSH prints the code)


def test_shell_exec_and_forwarding_refused(site: Site, tmp_path: Path) -> None:
    assert SSHPASS and SSH
    ssh = [SSHPASS, "-e", SSH, "-p", str(site.port), *client_options(site.known_hosts),
           "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"]
    env = dict(os.environ, SSHPASS=PASSWORD)
    attempts = {
        "exec": [*ssh, "123@127.0.0.1", "id"],
        "shell": [*ssh, "-tt", "123@127.0.0.1"],
        "remote forwarding": [*ssh, "-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:22", "123@127.0.0.1"],
        "other subsystem": [*ssh, "-s", "123@127.0.0.1", "netconf"],
    }
    for what, cmd in attempts.items():
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL, check=False)
        assert r.returncode != 0, (what, r.stdout, r.stderr)
        assert "uid=" not in r.stdout


def test_upload_cut_off_midway_leaves_nothing(site: Site, tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with open(big, "wb") as fh:
        fh.write(os.urandom(40 * 1024 * 1024))
    batch = tmp_path / "batch"
    batch.write_text(f"put {big} /inbox/big.xml\n")
    # -l limits bandwidth (Kbit/s) so the transfer is surely in flight when the client is killed.
    cmd, env = sftp_command(site.port, "123", site.known_hosts, batch, password=PASSWORD)
    cmd.insert(cmd.index("-b"), "-l")
    cmd.insert(cmd.index("-l") + 1, "20000")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # wait until bytes are really arriving
            parts = [p for p in os.listdir(site.inbox("123")) if p.startswith(".upload-")]
            if parts and os.path.getsize(site.inbox("123") / parts[0]) > 1024 * 1024:
                break
            time.sleep(0.05)
        else:
            pytest.fail("upload never started")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # sshpass, sftp and its ssh child, all at once
        proc.wait(10)
    deadline = time.monotonic() + 10
    while listing(site, "123") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listing(site, "123") == []  # no final file, no temporary file
    assert site.uploads == []
