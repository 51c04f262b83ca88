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
