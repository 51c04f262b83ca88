"""Issue 14, items 3 and 4: the outbox, then the SQLite database, on a small tmpfs that fills up while the
daemon runs. A full disk is not the files' fault: none may be parked, the daemon keeps running (degraded),
and once space comes back every file is delivered by itself, exactly once."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gateway import config as config_mod
from gateway.health import instances
from tests.conftest import PG_URL
from tests.faults.kit import (
    check_each_once,
    daemon_log,
    drop_declarations,
    home_with_employers,
    start_daemon,
    states,
    stop_daemon,
    wait_for_states,
    wait_ready,
)

FILES = 30
EXTRA = "fault_pause_max_seconds = 2\nworkers = 2\n"


@contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the disk-full tests run as root in CI)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system under ``folder`` to the last block. Unbuffered writes: a buffered file would fail
    once more when it is closed, flushing what the full disk refused."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for step in (65536, 4096, 512, 1):  # the last bytes too
            try:
                while True:
                    os.write(fd, b"\0" * step)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def wait_degraded(config: config_mod.Config, proc: subprocess.Popen[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the daemon stopped: {daemon_log(proc)[-3000:]}"
        for i in instances(config.jobs_dir):
            if i.state == "degraded":
                return i.reason or ""
        time.sleep(0.2)
    raise AssertionError("the daemon never said it was degraded")


def test_a_full_outbox_parks_nothing_and_the_files_go_on_once_space_is_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with small_tmpfs(home / "outbox", "16m"):
        path, config = home_with_employers(home, FILES, extra=EXTRA)
        filler = fill(config.outbox)
        drop_declarations(config, FILES)
        proc = start_daemon(path)
        try:
            assert wait_degraded(config, proc) == "storage"
            time.sleep(3)  # a few tries while full
            now = states(config)
            assert "failed" not in now and "delivered" not in now, now
            assert proc.poll() is None
            filler.unlink()  # space is back: the daemon goes on by itself
            seen = wait_for_states(config, {"delivered": FILES}, 90, alive=[proc])
            ready = wait_ready(config)
        finally:
            code, err = stop_daemon(proc)
        (home / "daemon.err").write_text(err)
        assert seen == {"delivered": FILES}, (seen, err[-6000:])
        assert ready
        assert code == 0, err[-3000:]
        assert err.count("intake.degraded") == 1, "an outage is said once, not once per file or per try"
        assert "intake.resumed" in err and "file.failed" not in err
        check_each_once(config, FILES)


@pytest.mark.skipif(bool(PG_URL), reason="the database file on a full disk is SQLite's case")
def test_a_full_disk_under_the_database_parks_nothing_and_the_intake_resumes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with small_tmpfs(tmp_path / "db", "16m") as db:
        path, config = home_with_employers(home, FILES, extra=EXTRA, url=f"sqlite:///{db}/gateway.db")
        proc = start_daemon(path)
        try:
            drop_declarations(config, 2)  # the daemon at work, then the disk fills under it
            assert wait_for_states(config, {"delivered": 2}, 30, alive=[proc]) == {"delivered": 2}
            used = {p.name: p.stat().st_size for p in db.iterdir()}
            assert shutil.disk_usage(db).free > 4 << 20, f"the database filled the disk by itself: {used}"
            filler = fill(db)
            drop_declarations(config, FILES - 2, start=2)
            assert wait_degraded(config, proc) == "database"
            time.sleep(3)
            assert proc.poll() is None
            filler.unlink()
            seen = wait_for_states(config, {"delivered": FILES}, 90, alive=[proc])
        finally:
            code, err = stop_daemon(proc)
        (home / "daemon.err").write_text(err)
        assert seen == {"delivered": FILES}, (seen, err[-6000:])
        assert code == 0, err[-3000:]
        assert "file.failed" not in err
        check_each_once(config, FILES)
