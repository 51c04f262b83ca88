"""Several intake processes share the work on PostgreSQL; SQLite takes one process only."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway import config as config_mod
from gateway import demo
from gateway.lock import InstanceLock
from gateway.store.models import Declaration, Document, ReceivedFile
from gateway.store.repo import Store
from tests.conftest import PG_URL, reset_postgres
from tests.intake.helpers import NOW, decl, declaration_xml, drop, gateway, write_config

FILES = 300


@pytest.mark.skipif(not PG_URL, reason="several instances need PostgreSQL (set GATEWAY_TEST_DATABASE_URL)")
def test_three_processes_take_each_file_exactly_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = write_config(home)
    reset_postgres(PG_URL)
    config = config_mod.load(path)
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    for n in range(FILES):
        number = f"{300000 + n}"
        store.add_employer(number, f"Employeur {n}")
        store.assign("100001", number, date(2024, 1, 1))
        drop(config, "100001", f"decl-{n:03d}.xml", declaration_xml(decl(number, "2026-10")))
    env = {**os.environ, "GATEWAY_FAKE_NOW": NOW.isoformat()}
    procs = [subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "intake", "--once", "--inline"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [(o[0], o[1][:4000]) for o in outputs if "Traceback" in o[1]]
    processed = [int(o[0].split(" traités")[0].rsplit(" ", 1)[1]) for o in outputs]
    assert sum(processed) == FILES
    assert sum(1 for n in processed if n > 0) >= 2, f"the work was not shared: {processed}"
    with store.tx() as s:
        assert s.scalar(select(func.count()).select_from(ReceivedFile)) == FILES
        assert s.scalar(select(func.count()).select_from(Declaration)) == FILES
        assert set(s.scalars(select(ReceivedFile.state))) == {"delivered"}
        acks = s.scalars(select(Document.path).where(Document.kind == "ack-xml")).all()
        assert len(acks) == len(set(acks)) == FILES
    assert len(list(config.outbox.rglob("*.ack.xml"))) == FILES
    assert not any((config.inbox / "100001").iterdir())
    store.close()


def test_sqlite_refuses_a_second_instance(tmp_path: Path) -> None:
    if PG_URL:
        pytest.skip("the single-instance lock is for SQLite")
    home = tmp_path / "home"
    home.mkdir()
    path = write_config(home)
    config = config_mod.load(path)
    gateway(path, "init")
    with InstanceLock(config):
        second = gateway(path, "intake", "--once", check=False)
    assert second.returncode == 2 and "une autre instance" in second.stderr
    assert gateway(path, "intake", "--once").returncode == 0, "free again once the first one stops"
