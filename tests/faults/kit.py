"""What the fault tests share: a gateway home of many employers, the daemon as a real process, and waiting
for the states the files end in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from gateway import config as config_mod
from gateway import demo
from gateway.config import Config
from gateway.store.models import Declaration, Document, ReceivedFile
from gateway.store.repo import Store
from tests.conftest import PG_URL, reset_postgres
from tests.intake.helpers import NOW, decl, declaration_xml, drop


def home_with_employers(home: Path, count: int, extra: str = "", url: str | None = None) -> tuple[Path, Config]:
    """A gateway home on the test database with ``count`` employers assigned to subscriber 100001."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "gateway.toml"
    path.write_text(f'[database]\nurl = "{url or PG_URL or "sqlite:///gateway.db"}"\n'
                    f'[sftp]\nenabled = false\n[intake]\nsettle_seconds = 0\n{extra}')
    if PG_URL and url is None:
        reset_postgres(PG_URL)
    config = config_mod.load(path)
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    for n in range(count):
        store.add_employer(f"{300000 + n}", f"Employeur {n}")
        store.assign("100001", f"{300000 + n}", date(2024, 1, 1))
    store.close()
    return path, config


def drop_declarations(config: Config, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        drop(config, "100001", f"decl-{n:04d}.xml", declaration_xml(decl(f"{300000 + n}", "2026-10")))


def start_daemon(path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``gateway run`` as a real process; its log goes to a file beside the configuration (a pipe nobody
    reads would fill up and block every process writing to it)."""
    full_env = {**os.environ, "GATEWAY_FAKE_NOW": NOW.isoformat(), **(env or {})}
    log = open(path.parent / f"daemon-{time.monotonic_ns()}.log", "w+")  # noqa: SIM115 - closed by stop_daemon
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "run", "--poll", "1", *extra],
                            env=full_env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc


def daemon_log(proc: subprocess.Popen[str]) -> str:
    log = proc.log  # type: ignore[attr-defined]
    log.flush()
    return Path(log.name).read_text()


def stop_daemon(proc: subprocess.Popen[str]) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    err = daemon_log(proc)
    proc.log.close()  # type: ignore[attr-defined]
    return proc.returncode, err


def states(config: Config) -> Counter[str]:
    store = Store.connect(config)
    try:
        with store.tx(read=True) as s:
            return Counter(s.scalars(select(ReceivedFile.state)))
    finally:
        store.close()


def wait_for_states(config: Config, expected: dict[str, int], timeout: float,
                    alive: list[subprocess.Popen[str]] = ()) -> Counter[str]:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    seen: Counter[str] = Counter()
    while time.monotonic() < deadline:
        try:
            seen = states(config)
        except Exception:  # noqa: BLE001 - the database may be the fault under test
            seen = Counter()
        if seen == Counter(expected):
            return seen
        for proc in alive:
            assert proc.poll() is None, f"a daemon stopped: {daemon_log(proc)[-3000:]}"
        time.sleep(0.3)
    return seen


def check_each_once(config: Config, files: int) -> None:
    """Every file delivered once: one row, one declaration, one acknowledgement (XML and PDF) each."""
    store = Store.connect(config)
    try:
        with store.tx(read=True) as s:
            assert s.scalar(select(func.count()).select_from(ReceivedFile)) == files
            assert s.scalar(select(func.count()).select_from(Declaration)) == files
            assert Counter(s.scalars(select(ReceivedFile.state))) == Counter({"delivered": files})
            acks = s.scalars(select(Document.path).where(Document.kind == "ack-xml")).all()
            assert len(acks) == len(set(acks)) == files
    finally:
        store.close()
    on_disk = [p for p in config.outbox.rglob("*.ack.xml")]
    assert len(on_disk) == files, f"{len(on_disk)} acknowledgements on disk for {files} files"
    assert not list(config.outbox.rglob(".tmp-*")), "temporary files left in the outbox"


def wait_ready(config: Config, timeout: float = 15) -> bool:
    """Every instance says it is ready (it writes so after the batch that delivered the last file ends)."""
    from gateway.health import instances

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(i.state == "ready" for i in instances(config.jobs_dir)):
            return True
        time.sleep(0.2)
    return False
