"""Issue 14, item 2: PostgreSQL connections lost while daemons work. Two daemons share 300 files while the
test terminates the backends of their database again and again; then one daemon behind a TCP proxy the test
controls loses the database for seconds (connections dropped, new ones refused) and gets it back. No file may
be parked, lost or recorded twice, and every daemon must still be running at the end."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from gateway.health import instances
from gateway.store.db import make_engine
from tests.conftest import PG_SERVER_URL, PG_URL
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
from tests.faults.proxy import Proxy

pytestmark = pytest.mark.skipif(not PG_URL, reason="a lost PostgreSQL connection needs PostgreSQL "
                                                   "(set GATEWAY_TEST_DATABASE_URL)")
EXTRA = "fault_pause_max_seconds = 2\nworkers = 2\n"


def terminate_backends() -> int:
    """Terminate every backend of the test's own database (never another database's)."""
    name = PG_URL.rsplit("/", 1)[1]
    engine = make_engine(PG_SERVER_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).all())
    finally:
        engine.dispose()


def test_two_daemons_survive_terminated_backends_and_take_each_file_once(tmp_path: Path) -> None:
    files = 300
    path, config = home_with_employers(tmp_path / "home", files, extra=EXTRA)
    drop_declarations(config, files)
    daemons = [start_daemon(path), start_daemon(path)]
    try:
        killed = 0
        for _ in range(6):  # mid-batch, several times
            time.sleep(1.5)
            killed += terminate_backends()
        seen = wait_for_states(config, {"delivered": files}, 240, alive=daemons)
        alive = [d.poll() is None for d in daemons]
    finally:
        results = [stop_daemon(d) for d in daemons]
        for n, (_code, err) in enumerate(results):
            (tmp_path / f"daemon-{n}.err").write_text(err)
    assert killed > 0, "no backend was terminated: the test tested nothing"
    assert seen == {"delivered": files}, (seen, results[0][1][-3000:])
    assert alive == [True, True], [err[-3000:] for _c, err in results]
    for code, err in results:
        assert code == 0, err[-3000:]
        assert "file.failed" not in err, err[-3000:]
    check_each_once(config, files)


def test_a_daemon_that_loses_the_database_resumes_by_itself(tmp_path: Path) -> None:
    target = urlsplit(PG_URL)
    proxy = Proxy((target.hostname or "127.0.0.1", target.port or 5432))
    url = PG_URL.replace(f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{proxy.port}", 1)
    files = 60
    try:
        path, config = home_with_employers(tmp_path / "home", files, extra=EXTRA)
        path.write_text(path.read_text().replace(PG_URL, url))
        daemon = start_daemon(path)
        try:
            drop_declarations(config, files)
            deadline = time.monotonic() + 60
            while states(config).get("delivered", 0) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            proxy.cut()  # the database unreachable: connections dropped, new ones refused
            degraded = False
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not degraded:
                degraded = any(i.state == "degraded" and i.reason == "database" for i in instances(config.jobs_dir))
                time.sleep(0.1)
            time.sleep(4)
            assert daemon.poll() is None, daemon_log(daemon)[-3000:]
            during = states(config)  # read directly, not through the proxy
            proxy.restore()
            seen = wait_for_states(config, {"delivered": files}, 120, alive=[daemon])
            ready = wait_ready(config)
        finally:
            code, err = stop_daemon(daemon)
            (tmp_path / "daemon.err").write_text(err)
    finally:
        proxy.close()
    assert degraded, "the daemon never said it was degraded"
    assert "failed" not in during, during
    assert seen == {"delivered": files}, (seen, err[-3000:])
    assert ready, "still degraded once the database was back"
    assert code == 0, err[-3000:]
    assert err.count("intake.degraded") == 1 and "intake.resumed" in err, err[-3000:]
    assert "file.failed" not in err
    check_each_once(config, files)
