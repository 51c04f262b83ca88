"""The real daemon over two months: each document at its date, once; e-mails arrive at a real SMTP server;
restarting on the same day produces nothing twice.

Each simulated day starts ``gateway run`` as a real process with its clock pinned (GATEWAY_FAKE_NOW), lets
the start-up catch-up run every job, then stops it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from gateway import config as config_mod
from gateway import demo
from gateway.jobs import JOBS
from gateway.sepa import set_direct_debit
from gateway.store.models import Document, JobRun
from gateway.store.repo import Store
from tests.conftest import PG_URL, reset_postgres
from tests.intake.helpers import MONACO, decl, declaration_xml, drop, fresh_home, pipeline


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def day_of_daemon(path: Path, store: Store, moment: datetime) -> None:
    """Start the daemon at ``moment``, wait until every job has run for that day, stop it (SIGTERM)."""
    env = {**os.environ, "GATEWAY_FAKE_NOW": moment.isoformat()}
    with store.tx() as s:
        before = s.scalar(select(func.count()).select_from(JobRun))
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "run", "--poll", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            with store.tx() as s:
                done = s.scalar(select(func.count()).select_from(JobRun).where(JobRun.finished_at.is_not(None)))
            if done - before >= len(JOBS):
                break
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            time.sleep(0.3)
        else:
            raise AssertionError("the jobs did not all run")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


def documents(store: Store) -> list[tuple[str, str, str | None]]:
    with store.tx() as s:
        return sorted(s.execute(select(Document.kind, Document.path, Document.period)).all())


def test_two_months_of_daemon(tmp_path: Path, smtp) -> None:  # type: ignore[no-untyped-def]
    port, inbox = smtp
    path, config = fresh_home(tmp_path / "home", (
        f'[mail]\nmode = "smtp"\nport = {port}\n'
        f'[sepa]\ncreditor_iban = "MC5810096180790123456789085"\ncreditor_bic = "CMCIMCM1XXX"\n'))
    store = Store.connect(config)
    set_direct_debit(store, "104512", "MC5810096180790123456789085", "CMCIMCM1XXX", date(2026, 10, 1))
    # November is declared for 104512 only; the other clients are late.
    drop(config, "100001", "nov.xml", declaration_xml(decl()))
    assert pipeline(config, store, datetime(2026, 11, 24, 9, 0, tzinfo=MONACO)).run_once().processed == 1

    days = [datetime(2026, 11, 19, 7, tzinfo=MONACO), datetime(2026, 11, 20, 7, tzinfo=MONACO),
            datetime(2026, 12, 8, 9, tzinfo=MONACO), datetime(2026, 12, 11, 8, tzinfo=MONACO),
            datetime(2026, 12, 20, 7, tzinfo=MONACO)]
    seen: dict[datetime, list[tuple[str, str, str | None]]] = {}
    mails: dict[datetime, int] = {}
    for moment in days:
        day_of_daemon(path, store, moment)
        seen[moment] = documents(store)
        mails[moment] = len(inbox.messages)
        # the same day again (a restart mid-month): nothing new, no e-mail sent twice
        day_of_daemon(path, store, moment.replace(hour=moment.hour + 2))
        assert documents(store) == seen[moment], f"a restart on {moment:%d/%m} produced documents again"
        assert len(inbox.messages) == mails[moment], f"a restart on {moment:%d/%m} sent e-mails again"

    def kinds(moment: datetime, period: str) -> set[str]:
        return {k for k, _p, per in seen[moment] if per == period}

    nov19, nov20, dec8, dec11, dec20 = days
    assert "prefilled" not in kinds(nov19, "2026-11"), "November opens on the 20th, not before"
    assert "prefilled" in kinds(nov20, "2026-11")
    assert "statement" not in kinds(dec8, "2026-11"), "no statement before the period is closed"
    assert "statement" in kinds(dec11, "2026-11")
    assert "prefilled" in kinds(dec20, "2026-12") and "prefilled" not in kinds(dec11, "2026-12")
    statements = [p for k, p, per in seen[dec20] if k == "statement"]
    assert statements and all("/104512/" in p for p in statements), "only the employer on direct debit"
    assert mails[nov20] > mails[nov19], "subscribers told the period is open"
    assert mails[dec8] > mails[nov20], "reminders of missing declarations"
    subjects = b"\n".join(m[2] for m in inbox.messages)
    assert b"Subject:" in subjects
    store.close()


@pytest.mark.skipif(not PG_URL, reason="several daemons need PostgreSQL (set GATEWAY_TEST_DATABASE_URL)")
def test_two_daemons_on_one_postgresql(tmp_path: Path, smtp) -> None:  # type: ignore[no-untyped-def]
    port, inbox = smtp
    home = tmp_path / "home"
    home.mkdir()
    path = home / "gateway.toml"
    path.write_text(f'[database]\nurl = "{PG_URL}"\n[sftp]\nenabled = false\n[mail]\nmode = "smtp"\nport = {port}\n')
    reset_postgres(PG_URL)
    config = config_mod.load(path)
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    env = {**os.environ, "GATEWAY_FAKE_NOW": datetime(2026, 11, 20, 7, tzinfo=MONACO).isoformat()}
    procs = [subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(path), "run", "--poll", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with store.tx() as s:
                jobs = set(s.scalars(select(JobRun.job).where(JobRun.finished_at.is_not(None))))
            if jobs >= set(JOBS):
                break
            time.sleep(0.3)
        time.sleep(2)  # let the slower daemon finish its own attempts
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-2000:] for e in errs]
    paths = [p for _k, p, _per in documents(store)]
    assert paths and len(paths) == len(set(paths)), "no document produced twice"
    recipients = [tuple(m[1]) + (m[2].split(b"Subject:")[1][:80],) for m in inbox.messages]
    assert len(recipients) == len(set(recipients)), "no e-mail sent twice"
    store.close()
