"""Intake commands: run a batch, and follow a file or an employer's declarations."""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli import EXIT_FINDINGS, EXIT_OK, Context, handle_errors, pass_ctx


def open_pipeline(ctx: Context, inline: bool = False) -> Any:
    from gateway.pipeline import Pipeline
    from gateway.workers import InlinePool

    return Pipeline(ctx.config, ctx.store, pool=InlinePool() if inline else None)


@click.command()
@click.option("--once", is_flag=True, required=True, help="Take what is in the inboxes now, process it, stop.")
@click.option("--inline", is_flag=True, help="Parse in this process instead of worker processes (debugging).")
@pass_ctx
@handle_errors
def intake(ctx: Context, once: bool, inline: bool) -> None:
    """Process the uploads waiting in the inboxes (and any file a crash left half-done)."""
    from gateway import log
    from gateway.lock import InstanceLock

    log.setup(ctx.config.logging.level, ctx.config.logging.json)
    with InstanceLock(ctx.config):
        pipeline = open_pipeline(ctx, inline)
        try:
            bar: Any = None
            if sys.stderr.isatty():
                def progress(done: int, total: int) -> None:
                    click.echo(f"\r{done}/{total} fichiers traités", nl=False, err=True)
                bar = progress
            summary = pipeline.run_once(progress=bar)
            if bar:
                click.echo("", err=True)
        finally:
            pipeline.close()
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(summary.outcomes.items())) or "rien à traiter"
    click.echo(f"{summary.received} reçus, {summary.duplicates} doublons, {summary.processed} traités ({outcomes})")
    bad = {k: v for k, v in summary.outcomes.items() if k not in ("accepted", "delivered")}
    sys.exit(EXIT_FINDINGS if bad else EXIT_OK)


@click.command()
@click.argument("what")
@pass_ctx
@handle_errors
def status(ctx: Context, what: str) -> None:
    """Where an upload stands: give its reference, its uploaded name or its SHA-256."""
    from gateway.store.intake import IntakeStore

    store = IntakeStore(ctx.store)
    rows = store.find_file(what)
    if not rows:
        from gateway.cli import fail

        fail(f"aucun envoi ne correspond à « {what} »")
    for r in rows:
        click.echo(f"{r.reference}  abonné {r.subscriber}  « {r.original_name} »  {r.size} octets")
        click.echo(f"  reçu le {r.received_at.astimezone(ctx.config.tz):%d/%m/%Y à %H:%M:%S}  état: {r.state}"
                   + (f"  résultat: {r.outcome}" if r.outcome else "") + ("  [TEST]" if r.test else ""))
        click.echo(f"  SHA-256 {r.sha256}")
        for doc in store.documents_of(r.id):
            click.echo(f"  document {doc.path}")
        for d in store.declarations_of(r.id):
            click.echo(f"  déclaration {d.reference}  période {d.period}  {d.employees} salariés")


COMMANDS = [intake, status]
