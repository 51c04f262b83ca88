"""Signals: SIGHUP reloads the configuration all or nothing; SIGTERM stops the daemon cleanly (exit 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gateway import config as config_mod
from gateway.store.repo import Store
from tests.conftest import PG_URL, reset_postgres
from tests.intake.helpers import decl, declaration_xml, fresh_home


def wait_for(path: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged:\n{path.read_text()[-3000:]}")


def test_sighup_reloads_all_or_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = home / "gateway.toml"
    good = f'[database]\nurl = "{PG_URL or "sqlite:///gateway.db"}"\n[sftp]\nenabled = false\n'
    path.write_text(good)
    if PG_URL:
        reset_postgres(PG_URL)
    store = Store.connect(config_mod.load(path))
    store.upgrade()
    store.close()
    log = tmp_path / "daemon.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "run", "--poll", "1"],
                                stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ))
        try:
            wait_for(log, "job.")  # the start-up catch-up has begun: the daemon is up
            path.write_text(good + "[intake]\nsettle_second = 3\n")  # misspelt: refused as a whole
            proc.send_signal(signal.SIGHUP)
            wait_for(log, "daemon.reload_refused")
            assert "settle_seconds" in log.read_text(), "the refusal suggests the right key"
            path.write_text(good + "[intake]\nsettle_seconds = 3\n")
            proc.send_signal(signal.SIGHUP)
            wait_for(log, "daemon.reloaded")
            assert proc.poll() is None
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert proc.returncode == 0
    assert "daemon.stopped" in log.read_text()


def test_sigterm_mid_batch_finishes_the_files_in_hand_and_leaves_the_rest(tmp_path: Path) -> None:
    """systemd's SIGTERM reaches the daemon and its worker processes: the files being processed are finished
    (none parked as failed), no other is taken, and the next start takes the rest, each file once."""
    path, config = fresh_home(tmp_path / "home", '[logging]\nlevel = "INFO"\n')
    inbox = config.inbox / "100001"
    inbox.mkdir(parents=True)
    for i in range(60):
        (inbox / f"f{i:02d}.xml").write_bytes(
            declaration_xml(decl("104512", period=f"{2020 + i // 12}-{i % 12 + 1:02d}")))
    env = {**os.environ, "GATEWAY_FAKE_NOW": "2026-11-26T10:30:00+01:00"}
    log = tmp_path / "daemon.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "run", "--poll", "1"],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            wait_for(log, "file.delivered")
            for pid in _family(proc.pid):  # the whole control group, as systemd does
                os.kill(pid, signal.SIGTERM)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text()
    assert proc.returncode == 0, text[-3000:]
    assert "file.failed" not in text and "worker_lost" not in text, text[-3000:]
    acks = lambda: sorted(p.name for p in config.outbox.rglob("*.ack.xml"))
    first = acks()
    assert 0 < len(first) < 60, "stopped mid-batch, after some files"
    done = subprocess.run([sys.executable, "-m", "gateway", "--config", str(path), "intake", "--once"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr
    names = [n.split(".")[0] for n in acks()]
    assert sorted(names) == [f"f{i:02d}" for i in range(60)], "each file answered once"
    assert "failed" not in done.stdout


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants (the daemon's worker processes), as systemd's control group would."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    out = [pid]
    for child in out:  # grows while it is walked: children, then theirs
        out += [p for p, parent in parents.items() if parent == child]
    return out
