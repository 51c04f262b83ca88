"""Issue 14, item 1: three uploads in a row over SFTP, the third a repeat of the first. The repeat's
acknowledgement used to be drawn through the worker pool while its registration held the SQLite writer lock,
and both workers waited for that lock: the daemon froze for about 90 s, then exited « base de données
occupée ». Every file must get its acknowledgement within seconds, and the daemon must keep running."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from gateway import config as config_mod
from gateway import demo
from gateway.store.repo import Store
from gateway.transport.hostkey import ensure_host_key, known_hosts_line
from tests.conftest import PG_URL, reset_postgres
from tests.faults.kit import daemon_log, start_daemon, stop_daemon
from tests.intake.helpers import decl, declaration_xml
from tests.transport.openssh_kit import SFTP, SSHPASS, free_port, run_sftp, wait_port

pytestmark = pytest.mark.skipif(not (SFTP and SSHPASS), reason="needs OpenSSH's sftp and sshpass")


def test_a_repeat_between_two_uploads_is_answered_within_seconds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    path = home / "gateway.toml"
    path.write_text(f'[database]\nurl = "{PG_URL or "sqlite:///gateway.db"}"\n[sftp]\nport = {port}\n'
                    '[intake]\nworkers = 2\n')
    if PG_URL:
        reset_postgres(PG_URL)
    config = config_mod.load(path)
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    store.close()
    host_key, _fp = ensure_host_key(config.path(config.sftp.host_key))
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(host_key, "127.0.0.1", port) + "\n")
    # the sequence (two declarations, the first sent again), then the same pattern a few times more
    # over the months of 2026: a repeat registered while the workers record the files before it
    commands, expected = [], {}
    for n, month in enumerate(("2026-11", "2026-10", "2026-09", "2026-08", "2026-07", "2026-06")):
        a, b = tmp_path / f"a{n}.xml", tmp_path / f"b{n}.xml"
        a.write_bytes(declaration_xml(decl("104512", month)))
        b.write_bytes(declaration_xml(decl("104513", month)))
        commands += [f"put {a} inbox/r{3 * n + 1}.xml", f"put {b} inbox/r{3 * n + 2}.xml",
                     f"put {a} inbox/r{3 * n + 3}.xml"]
        expected.update({f"r{3 * n + 1}": "accepted", f"r{3 * n + 2}": "accepted", f"r{3 * n + 3}": "duplicate"})
    proc = start_daemon(path)
    try:
        wait_port(port, 30)
        start = time.monotonic()
        put = run_sftp(port, "100001", known, commands, tmp_path, password=demo.PASSWORD)
        assert put.returncode == 0, put.stderr
        acks: dict[str, str | None] = {}
        while time.monotonic() - start < 60 and len(acks) < len(expected):
            for p in (config.outbox / "100001" / "acknowledgements").glob("r*.ack.xml"):
                acks[p.name.split(".", 1)[0]] = etree.fromstring(p.read_bytes()).get("status")
            assert proc.poll() is None, f"the daemon stopped: {daemon_log(proc)[-3000:]}"
            time.sleep(0.1)
        took = time.monotonic() - start
        assert acks == expected, acks
        assert took < 20, f"{len(expected)} acknowledgements after {took:.1f} s"
        assert proc.poll() is None
    finally:
        code, err = stop_daemon(proc)
    assert code == 0, err[-3000:]
    assert "occupée" not in err and "file.failed" not in err, err[-3000:]
