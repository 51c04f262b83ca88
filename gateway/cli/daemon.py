"""Running the gateway: ``gateway run`` (daemon) and ``gateway sftp-server`` (the SFTP server alone)."""

from __future__ import annotations

import threading

import click

from gateway.cli import Context, handle_errors, pass_ctx


@click.command()
@click.option("--poll", "poll_seconds", default=60.0, show_default=True,
              help="Seconds between two looks at the inboxes when no SFTP upload wakes the intake.")
@pass_ctx
@handle_errors
def run(ctx: Context, poll_seconds: float) -> None:
    """Run the gateway in the foreground: intake of the inboxes and the built-in SFTP server."""
    from gateway import daemon, log
    from gateway.lock import InstanceLock

    log.setup(ctx.config.logging.level, ctx.config.logging.json)
    with InstanceLock(ctx.config):
        click.echo(f"passerelle CSM   base {ctx.config.database_url}")
        from gateway.config import load

        daemon.run(ctx.config, daemon.open_store(ctx.config), announce=click.echo, poll_seconds=poll_seconds,
                   reload=lambda: load(ctx.config_path))


@click.command("sftp-server")
@pass_ctx
@handle_errors
def sftp_server(ctx: Context) -> None:
    """Run the built-in SFTP server alone, in the foreground (uploads wait for an intake run)."""
    import signal

    from gateway import log
    from gateway.daemon import start_sftp
    from gateway.receive import Releases

    log.setup(ctx.config.logging.level, ctx.config.logging.json)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server, fingerprint = start_sftp(ctx.config, ctx.store, Releases())
    host, port = server.address
    click.echo(f"serveur SFTP sur {host}:{port}, empreinte de la clé d'hôte {fingerprint}")
    try:
        stop.wait()
    finally:
        server.stop()


COMMANDS = [run, sftp_server]
