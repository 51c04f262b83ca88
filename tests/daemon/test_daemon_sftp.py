"""The whole product as an accountant meets it: the real daemon, the stock OpenSSH client, a password and a
key login, an upload, the acknowledgement downloaded within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from gateway import config as config_mod
from gateway import demo
from gateway.store.repo import Store
from gateway.transport.hostkey import ensure_host_key, known_hosts_line
from tests.conftest import PG_URL, legacy_scrypt_hash, reset_postgres
from tests.intake.helpers import NOW, decl, declaration_xml
from tests.transport.openssh_kit import SFTP, SSHPASS, free_port, keygen, run_sftp, wait_port

pytestmark = pytest.mark.skipif(not (SFTP and SSHPASS), reason="needs OpenSSH's sftp and sshpass")


def test_upload_with_openssh_and_get_the_acknowledgement(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    path = home / "gateway.toml"
    path.write_text(f'[database]\nurl = "{PG_URL or "sqlite:///gateway.db"}"\n[sftp]\nport = {port}\n')
    if PG_URL:
        reset_postgres(PG_URL)
    config = config_mod.load(path)
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    key = keygen(tmp_path / "keys" / "id_ed25519")
    store.add_key("200001", key.public_line)
    with store.tx() as s:  # 100001's password as hashed before 2026-11-27: replaced at its first login
        store.subscriber(s, "100001").password_hash = legacy_scrypt_hash(demo.PASSWORD)
    store.close()
    host_key, _fp = ensure_host_key(config.path(config.sftp.host_key))
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(host_key, "127.0.0.1", port) + "\n")
    upload = tmp_path / "novembre.xml"
    upload.write_bytes(declaration_xml(decl()))
    env = {**os.environ, "GATEWAY_FAKE_NOW": NOW.isoformat()}
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "run", "--poll", "600"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, 30)
        start = time.monotonic()
        # a script lists its acknowledgements folder straight after the upload: the folder is there from the
        # login on, before its first acknowledgement (a missing folder would end `sftp -b` with an error)
        put = run_sftp(port, "100001", known, [f"put {upload} inbox/novembre.xml", "ls outbox/acknowledgements"],
                       tmp_path, password=demo.PASSWORD)
        assert put.returncode == 0, put.stderr
        acks: list[str] = []
        while time.monotonic() - start < 20 and not acks:
            listing = run_sftp(port, "100001", known, ["ls -1 outbox/acknowledgements"], tmp_path,
                               password=demo.PASSWORD)
            acks = [n.strip() for n in listing.stdout.splitlines() if n.strip().endswith(".ack.xml")]
            time.sleep(0.2)
        latency = time.monotonic() - start
        assert acks, "no acknowledgement within 20 s"
        assert latency < 10, f"acknowledgement after {latency:.1f} s (an upload must wake the intake at once)"
        got = tmp_path / "ack.xml"
        name = acks[0].rsplit("/", 1)[-1]
        fetched = run_sftp(port, "100001", known, [f"get outbox/acknowledgements/{name} {got}"], tmp_path,
                           password=demo.PASSWORD)
        assert fetched.returncode == 0, fetched.stderr
        assert etree.fromstring(got.read_bytes()).get("status") == "accepted"
        # key login of the other subscriber: its own tree only
        other = run_sftp(port, "200001", known, ["ls outbox/acknowledgements", "get ../100001/inbox"],
                         tmp_path, key=key.private)
        assert "novembre" not in other.stdout
        wrong = run_sftp(port, "100001", known, ["ls"], tmp_path, password="not-the-password")
        assert wrong.returncode != 0
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    store = Store.connect(config)
    try:
        stored = store.login_info("100001")
    finally:
        store.close()
    assert stored is not None and stored[0] is not None and stored[0].startswith("$argon2id$"), "not rehashed"
