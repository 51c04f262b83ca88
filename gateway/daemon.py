"""``gateway run``: the intake loop and the built-in SFTP server, in the foreground, stopped by a signal.

SIGTERM/SIGINT: finish the file in hand, stop the SFTP server, exit 0. An SFTP upload wakes the intake at
once (so an accountant gets the acknowledgement within seconds); otherwise the inboxes are polled every
``poll_seconds``.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gateway import formats
from gateway.config import Config
from gateway.faults import InfrastructureFault
from gateway.health import Health
from gateway.log import get_logger
from gateway.pipeline import Pipeline, wait_for_work
from gateway.receive import Releases
from gateway.store.repo import Store

log = get_logger(__name__)


def start_sftp(config: Config, store: Store, releases: Releases) -> tuple[Any, str]:
    """Start the built-in SFTP server in background threads; returns (server, host key fingerprint)."""
    from gateway.sftp_accounts import StoreAuthenticator
    from gateway.transport.hostkey import ensure_host_key
    from gateway.transport.sftp_server import SftpServer

    key, fingerprint = ensure_host_key(config.path(config.sftp.host_key))
    server = SftpServer(
        config.sftp, StoreAuthenticator(config, store), key, on_upload=releases.release,
        max_session_bytes=config.sftp.max_session_bytes, failure_floor=config.sftp.failure_delay_seconds,
        fsync=config.sftp.fsync_uploads,
    )
    server.start()
    return server, fingerprint


def open_store(config: Config) -> Store:
    """The database, waited for when it cannot be reached at start (a server still starting, a full disk):
    said once, tried again after a growing pause, shown degraded by ``gateway status`` meanwhile. A schema
    that is not the code's is an error at once (``gateway db upgrade``)."""
    from gateway.faults import Outage, as_fault

    outage, health = Outage(config.intake.fault_pause_max_seconds), Health(config.jobs_dir)
    while True:
        try:
            store = Store.open(config)
        except Exception as exc:
            fault = as_fault(exc)
            if fault is None:
                raise
            outage.fault(fault)
            health.write(outage)
            time.sleep(outage.pause())
            continue
        outage.ok()
        return store


def run(config: Config, store: Store, *, announce: Callable[[str], None], poll_seconds: float = 60.0,
        stop: threading.Event | None = None, reload: Callable[[], Config] | None = None) -> None:
    """Run until a signal (or ``stop``) asks to stop. SIGHUP reloads the configuration through ``reload``."""
    formats.compile_all()  # refuse to start with a schema that does not compile
    stop = stop or threading.Event()
    hup = threading.Event()
    releases = Releases()

    def ask_stop(signum: int, _frame: object) -> None:
        log.info("daemon.stopping", signal=signal.Signals(signum).name)
        stop.set()
        releases.event.set()

    def ask_reload(_signum: int, _frame: object) -> None:
        hup.set()
        releases.event.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, ask_stop)
        signal.signal(signal.SIGINT, ask_stop)
        signal.signal(signal.SIGHUP, ask_reload)
    pipeline = Pipeline(config, store, releases=releases, stop=stop)
    health = Health(config.jobs_dir)
    health.write(pipeline.outage)
    scheduler = _scheduler(config, store, releases)
    server = None
    try:
        if config.sftp.enabled:
            server, fingerprint = start_sftp(config, store, releases)
            host, port = server.address
            announce(f"serveur SFTP      sftp -P {port} <abonné>@{host}   (empreinte de la clé d'hôte {fingerprint})")
        announce(f"dépôts surveillés {config.inbox}/<abonné>/  → retours dans {config.outbox}/<abonné>/")
        if config.remote.enabled:
            announce(f"mode distant      sftp://{config.remote.user}@{config.remote.host}:{config.remote.port} "
                     f"{config.remote.inbox} → {config.remote.outbox}")
        announce(f"travaux planifiés {', '.join(j.id for j in scheduler.get_jobs())} (gateway jobs list)")
        announce("arrêt             Ctrl-C (ou SIGTERM) : le fichier en cours est terminé d'abord")
        from gateway.config import creditor_id_missing

        missing = creditor_id_missing(config)
        if missing:  # mandates and pain.008 wait for it; everything else runs
            log.warning("sepa.creditor_id_missing", problem=missing)
            announce(f"attention         {missing}")
        while not stop.is_set():
            if hup.is_set():
                hup.clear()
                config, pipeline, scheduler = _reload(config, store, pipeline, scheduler, releases, reload, stop)
            if config.remote.enabled:  # remote mode: uploads pulled before, outputs pushed after (errors logged)
                from gateway import remote
                remote.pull_logged(config, store, releases=releases)
            pause = _intake(pipeline, health)
            if config.remote.enabled:
                remote.push_logged(config, store)
            if stop.is_set():
                break
            if pause:  # degraded: the database or the disk failed; the files wait, tried again after a pause
                stop.wait(pause)
            else:
                wait_for_work(releases, poll_seconds)
    finally:
        scheduler.shutdown(wait=True)
        if server is not None:
            server.stop()
        if config.remote.enabled:
            from gateway import remote
            remote.close()
        pipeline.close()
        health.remove()
        log.info("daemon.stopped")


def _intake(pipeline: Pipeline, health: Health) -> float:
    """One intake batch; the pause before the next try when the intake is degraded (0 when it is not).

    Nothing that goes wrong in a batch stops the daemon: a fault of the database or the disk leaves every file
    at its recorded state (said once per outage), an unexpected error is logged with its traceback."""
    try:
        summary = pipeline.run_once()
    except Exception as exc:
        log.exception("intake.batch_crashed", error=type(exc).__name__)
        pipeline.outage.fault(InfrastructureFault(f"{type(exc).__name__}: {exc}"[:500], "internal"))
        health.write(pipeline.outage)
        return pipeline.outage.pause()
    if summary.busy:
        log.info("intake.batch", run=summary.run_id, received=summary.received,
                 processed=summary.processed, duplicates=summary.duplicates)
    health.write(pipeline.outage, batch=summary.run_id if summary.busy else None)
    return pipeline.outage.pause()


def _scheduler(config: Config, store: Store, releases: Releases) -> Any:
    """The job table; the scheduled "intake" only wakes the loop above, which alone runs the intake."""
    from gateway.schedule import build_scheduler, default_runner

    jobs = default_runner(config, store)

    def runner(name: str) -> object:
        if name == "intake":
            releases.event.set()
            return None
        return jobs(name)

    scheduler = build_scheduler(config, store, runner)
    scheduler.start()
    # Catch up at start: every job runs once now (each decides whether its date has come and produces
    # nothing twice), so a daemon that was down on the 20th still opens the period when it comes back.
    now = datetime.now(config.tz)
    for job in scheduler.get_jobs():
        if job.id not in ("intake", "mail"):
            job.modify(next_run_time=now)
    return scheduler


def _reload(config: Config, store: Store, pipeline: Pipeline, scheduler: Any, releases: Releases,
            reload: Callable[[], Config] | None, stop: threading.Event) -> tuple[Config, Pipeline, Any]:
    """All or nothing: a new configuration that does not load leaves everything as it was."""
    if reload is None:
        return config, pipeline, scheduler
    try:
        new = reload()
    except Exception as exc:  # noqa: BLE001 - a bad file must not stop the daemon
        log.error("daemon.reload_refused", error=str(exc))
        return config, pipeline, scheduler
    scheduler.shutdown(wait=True)
    pipeline.close()
    log.info("daemon.reloaded", source=new.source or "defaults")
    return new, Pipeline(new, store, releases=releases, stop=stop), _scheduler(new, store, releases)
