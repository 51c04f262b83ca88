"""The jobs CLI, the job table and the scheduler (one run across two schedulers on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.config import Config
from gateway.errors import ConfigError
from gateway.schedule import build_scheduler, job_names, run_once_across
from gateway.store.advisory import AdvisoryLock
from gateway.triggers import JobsSection, parse_trigger
from tests.conftest import PG_URL
from tests.intake.helpers import write_config
from tests.jobs.conftest import MONACO


def invoke(cfg: Path, *args: str, now: str = "2026-11-20T07:00:00+01:00") -> Any:
    return CliRunner().invoke(cli, ["--config", str(cfg), *args], env={"GATEWAY_FAKE_NOW": now},
                              catch_exceptions=False)


def test_cli_commands(home: Path, jstore: Any) -> None:
    cfg = write_config(home)
    r = invoke(cfg, "jobs", "run", "prefill")
    assert r.exit_code == 0 and "8 produit(s), 2 e-mail(s)" in r.output
    assert "0 produit(s)" in invoke(cfg, "jobs", "run", "prefill").output
    listed = invoke(cfg, "jobs", "list").output
    assert "prefill" in listed and "succeeded" in listed and "cron:0 6 * * *" in listed
    assert "2 produit(s)" in invoke(cfg, "workforce", "104512", "--period", "2026-10").output
    pending = invoke(cfg, "clients", "--subscriber", "100001").output
    assert "104513" in pending and "3 client(s)" in pending
    assert "0 client(s)" in invoke(cfg, "clients", "--subscriber", "100001", "--filter", "inactive").output
    bad = invoke(cfg, "employer", "set-direct-debit", "104513", "--iban", "MC00BAD", "--bic", "SOGEMCM1",
                 "--signed-on", "2026-11-02")
    assert bad.exit_code == 2 and "IBAN invalide" in bad.output
    ok = invoke(cfg, "employer", "set-direct-debit", "104513", "--iban", "MC5811222000010123456789030",
                "--bic", "SOGEMCM1", "--signed-on", "2026-11-02")
    assert ok.exit_code == 0 and "CSM-104513-M1" in ok.output
    assert "en file" in invoke(cfg, "subscriber", "set-email", "200001", "rh2@moneghetti.example").output \
        or "envoyé" in invoke(cfg, "subscriber", "set-email", "200001", "rh2@moneghetti.example").output
    assert invoke(cfg, "retention", "--dry-run").exit_code == 0
    assert invoke(cfg, "jobs", "run", "nope").exit_code == 2
    nothing = invoke(cfg, "sepa", "export", "--period", "2026-11")
    assert nothing.exit_code == 2  # creditor account not configured


def test_trigger_parsing() -> None:
    assert parse_trigger("", MONACO) is None
    assert parse_trigger("interval:60", MONACO).interval.total_seconds() == 60
    for bad in ("cron:61 * * * *", "interval:0", "every:5"):
        with pytest.raises(ConfigError):
            parse_trigger(bad, MONACO)
    for name in job_names():
        parse_trigger(getattr(JobsSection(), name), MONACO)


def test_scheduler_is_built_from_the_table(jconfig: Config, jstore: Any) -> None:
    scheduler = build_scheduler(jconfig, jstore, lambda name: None)
    ids = {j.id for j in scheduler.get_jobs()}
    assert ids == set(job_names())
    assert str(scheduler.timezone) == "Europe/Monaco"


@pytest.mark.skipif(not PG_URL, reason="advisory locks need PostgreSQL")
def test_two_schedulers_run_a_job_once(jconfig: Config, jstore: Any) -> None:
    from gateway.store.repo import Store

    other = Store.connect(jconfig)
    runs: list[str] = []
    barrier = threading.Barrier(2)

    def work(tag: str) -> None:
        runs.append(tag)
        time.sleep(0.5)  # hold the lock while the other instance tries

    def instance(store: Any, tag: str) -> None:
        barrier.wait()
        run_once_across(jconfig, store, "statements", lambda: work(tag))

    threads = [threading.Thread(target=instance, args=(s, t)) for s, t in ((jstore, "a"), (other, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1
    with AdvisoryLock(jstore, "statements") as got:  # released after the run
        assert got
    other.close()
