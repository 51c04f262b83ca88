"""Files set aside: a bug parks a file as ``failed`` only when nothing of it was recorded; a file whose records
stand is held at its state; ``gateway failed list|retry`` shows them and gives them back; migration 0003 gives
back what older versions parked for a fault of the database or the disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, update

from gateway import config as config_mod
from gateway.store import db
from gateway.store.models import IntakeClaim, ReceivedFile
from gateway.store.repo import Store
from tests.intake.helpers import decl, declaration_xml, drop, gateway, write_config


@pytest.fixture()
def home(tmp_path: Path) -> tuple[Path, config_mod.Config]:
    from tests.conftest import PG_URL, reset_postgres

    if PG_URL:
        reset_postgres(PG_URL)
    home = tmp_path / "home"
    home.mkdir()
    path = write_config(home)
    gateway(path, "init")
    gateway(path, "demo-data")
    return path, config_mod.load(path)


def _rows(config: config_mod.Config) -> dict[str, tuple[str, str | None]]:
    store = Store.connect(config)
    try:
        with store.tx(read=True) as s:
            return {r.original_name: (r.state, r.error) for r in s.scalars(select(ReceivedFile))}
    finally:
        store.close()


def test_a_bug_after_the_records_holds_the_file_and_retry_delivers_it(home) -> None:  # type: ignore[no-untyped-def]
    path, config = home
    drop(config, "100001", "nov.xml", declaration_xml(decl("104512")))
    drop(config, "100001", "oct.xml", declaration_xml(decl("104513", "2026-10")))
    # a bug in drawing the acknowledgement PDF, after the records committed (a real exception in the real
    # command, injected by a sitecustomize the subprocess imports)
    hook = config.home / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import gateway.deliver as p\n"
        "def broken(ack):\n    raise ZeroDivisionError('bug in the drawing')\n"
        "p.render_ack_pdf = broken\n")
    first = gateway(path, "intake", "--once", "--inline", env={"PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))}, check=False)
    assert first.returncode == 1, first.stderr
    rows = _rows(config)
    assert {n: s for n, (s, _e) in rows.items()} == {"nov.xml": "computed", "oct.xml": "computed"}, rows
    assert all("ZeroDivisionError" in (e or "") for _s, e in rows.values())
    listed = gateway(path, "failed", "list", "--json")
    aside = json.loads(listed.stdout)
    assert {a["name"] for a in aside} == {"nov.xml", "oct.xml"} and all(a["records_kept"] for a in aside)
    again = gateway(path, "intake", "--once", "--inline")  # held files are not taken by themselves
    assert "0 traités" in again.stdout, again.stdout
    ref = aside[0]["reference"]
    one = gateway(path, "failed", "retry", ref)
    assert "repris à l'état computed" in one.stdout
    assert gateway(path, "failed", "retry", "--all").returncode == 0
    assert gateway(path, "intake", "--once", "--inline").returncode == 0
    assert {n: s for n, (s, _e) in _rows(config).items()} == {"nov.xml": "delivered", "oct.xml": "delivered"}
    assert "aucun fichier mis de côté" in gateway(path, "failed", "list").stdout
    assert len(list(config.outbox.rglob("*.ack.xml"))) == 2
    wrong = gateway(path, "failed", "retry", "GW-NOPE", check=False)
    assert wrong.returncode == 2 and "GW-NOPE" in wrong.stderr


def test_migration_0003_gives_back_what_the_infrastructure_parked(home) -> None:  # type: ignore[no-untyped-def]
    path, config = home
    for n, employer in enumerate(("104512", "104513", "104514")):
        drop(config, "100001", f"f{n}.xml", declaration_xml(decl(employer)))
    assert gateway(path, "intake", "--once", "--inline").returncode == 0
    store = Store.connect(config)
    table = ReceivedFile.__table__
    try:
        command.downgrade(db._alembic_config(store.engine), "0002")  # the schema of the older version
        with store.engine.begin() as conn:  # as the old version left them
            conn.execute(update(table).where(table.c.original_name == "f0.xml").values(
                state="failed", outcome="failed", error="StoreError: base de données: OperationalError: AdminShutdown"))
            conn.execute(update(table).where(table.c.original_name == "f1.xml").values(
                state="failed", outcome="failed", error="OSError: [Errno 28] No space left on device"))
            conn.execute(update(table).where(table.c.original_name == "f2.xml").values(
                state="failed", outcome="failed", error="KeyError: 'a bug'"))
            ids = conn.execute(select(table.c.id)).scalars().all()
            conn.execute(IntakeClaim.__table__.delete())
        db.upgrade(store.engine)
        with store.tx(read=True) as s:
            after = {r.original_name: (r.state, r.error) for r in s.scalars(select(ReceivedFile))}
            claims = set(s.scalars(select(IntakeClaim.received_file_id)))
    finally:
        store.close()
    # all three had their declarations recorded: none may say failed; the infrastructure's two resume alone
    assert after["f0.xml"] == ("computed", None) and after["f1.xml"] == ("computed", None)
    assert after["f2.xml"][0] == "computed" and "a bug" in (after["f2.xml"][1] or "")
    assert len(claims) == 2 and claims <= set(ids)
    assert gateway(path, "intake", "--once", "--inline").returncode == 0
    assert {n: s for n, (s, _e) in _rows(config).items()} == {
        "f0.xml": "delivered", "f1.xml": "delivered", "f2.xml": "computed"}
    assert "a bug" in gateway(path, "failed", "list").stdout
