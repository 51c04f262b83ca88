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
@click.option("--inline", is_flag=True, help="Process the files in this process instead of worker processes (debugging).")
@pass_ctx
@handle_errors
def intake(ctx: Context, once: bool, inline: bool) -> None:
    """Process the uploads waiting in the inboxes (and any file a crash left half-done)."""
    from gateway import log
    from gateway.lock import InstanceLock

    log.setup(ctx.config.logging.level, ctx.config.logging.json)
    with InstanceLock(ctx.config):
        pipeline = open_pipeline(ctx, inline)
        remote_mode = ctx.config.remote.enabled
        if remote_mode:  # uploads pulled from the remote SFTP server first (errors logged)
            from gateway import remote
            remote.pull_logged(ctx.config, ctx.store, releases=pipeline.releases)
        try:
            bar: Any = None
            if sys.stderr.isatty():
                def progress(done: int, total: int) -> None:
                    click.echo(f"\r{done}/{total} fichiers traités", nl=False, err=True)
                bar = progress
            summary = pipeline.run_once(progress=bar)
            if bar:
                click.echo("", err=True)
            if remote_mode:  # outputs pushed to the remote outboxes
                remote.push_logged(ctx.config, ctx.store)
        finally:
            pipeline.close()
            if remote_mode:
                remote.close()
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(summary.outcomes.items())) or "rien à traiter"
    click.echo(f"{summary.received} reçus, {summary.duplicates} doublons, {summary.processed} traités ({outcomes})")
    if summary.fault is not None:
        from gateway.cli import fail

        fail(f"lot interrompu par une panne ({summary.fault.reason}: {summary.fault}) ; les fichiers restants "
             "attendent à leur état et seront repris au prochain lot")
    bad = {k: v for k, v in summary.outcomes.items() if k not in ("accepted", "delivered")}
    sys.exit(EXIT_FINDINGS if bad else EXIT_OK)


@click.command()
@click.argument("what", required=False)
@pass_ctx
@handle_errors
def status(ctx: Context, what: str | None) -> None:
    """Where an upload stands (its reference, uploaded name or SHA-256); without one, the running
    instances (ready or degraded, and why) and the files waiting or set aside."""
    from gateway.store.intake import IntakeStore

    store = IntakeStore(ctx.store)
    if what is None:
        _overview(ctx, store)
        return
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
            click.echo(f"  déclaration {d.reference}  période {d.period}  {_employees(d.employees)}")




@click.command()
@click.argument("employer")
@click.option("--months", default=24, show_default=True, help="How far back, in months.")
@pass_ctx
@handle_errors
def history(ctx: Context, employer: str, months: int) -> None:
    """An employer's declarations, newest period first, corrections next to their original."""
    from gateway.clock import system_clock
    from gateway.domain import Period
    from gateway.store.intake import IntakeStore

    period = Period.of(system_clock(ctx.config.tz).today())
    for _ in range(months - 1):
        period = period.previous()
    rows = IntakeStore(ctx.store).history(employer, str(period))
    if not rows:
        click.echo(f"aucune déclaration de l'employeur {employer} depuis {period}")
    from gateway.store.account import AccountStore

    account = AccountStore(ctx.store)
    effect = {e.source: e.amount for e in account.entries(account.employer_id(employer))} if rows else {}
    labels = {"original": "originale", "complementary": "complémentaire", "rectifying": "rectificative"}
    for d in rows:
        indent = "    " if d.kind != "original" else ""
        owed = effect.get(d.reference)
        click.echo(f"{indent}{d.period}  {labels.get(d.kind, d.kind):<14} {d.reference}  "
                   f"reçue le {d.received_at.astimezone(ctx.config.tz):%d/%m/%Y}  {_employees(d.employees)}  "
                   f"brut {d.total_gross} €" + ("  EN RETARD" if d.late else "")
                   + ("" if owed is None else f"  compte {owed:+} €")
                   + (f"  motif: {d.reason}" if d.reason else "")
                   + (f"  avis: corrections/{d.period}/avis-correction-{d.reference}.pdf" if d.kind != "original"
                      else ""))


@click.group()
def declaration() -> None:
    """Recorded declarations: show one, record a correction (recovery department)."""


@declaration.command("show")
@click.argument("reference")
@pass_ctx
@handle_errors
def declaration_show(ctx: Context, reference: str) -> None:
    """A recorded declaration: its lines, events and contributions per fund."""
    from gateway.cli import fail
    from gateway.rules.contributions import fund_totals
    from gateway.store.intake import IntakeStore

    store = IntakeStore(ctx.store)
    found = store.declaration(reference)
    if found is None:
        fail(f"déclaration {reference} introuvable")
    row, employer, lines = found
    click.echo(f"déclaration {row.reference}  employeur {employer}  période {row.period}  ({row.kind})"
               + ("  EN RETARD" if row.late else ""))
    for position, registration, last, first, gross, hours, events in lines:
        click.echo(f"  {position:>4}  {registration:<10} {last} {first}  brut {gross} €  {hours} h")
        for kind, start, end in events:
            click.echo(f"        {kind} {start or ''} {end or ''}".rstrip())
    click.echo(f"  total: {_employees(row.employees)}, brut {row.total_gross} €, {row.total_hours} h")
    for t in fund_totals(store.contribution_amounts(row.id)):
        click.echo(f"  {t.label}: base {t.base} €, patronale {t.employer} €, salariale {t.employee} €")


@declaration.command("correct")
@click.argument("employer")
@click.argument("period")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=__import__("pathlib").Path))
@click.option("--kind", type=click.Choice(["complementary", "rectifying"]), required=True,
              help="Complementary (adds to the original) or rectifying (replaces it).")
@click.option("--reason", required=True, help="Why the correction is made (kept with it, shown in the history).")
@pass_ctx
@handle_errors
def declaration_correct(ctx: Context, employer: str, period: str, file: Any, kind: str, reason: str) -> None:
    """Record a complementary or rectifying declaration for EMPLOYER and PERIOD (YYYY-MM) from FILE."""
    from gateway.corrections import correct

    pipeline = open_pipeline(ctx, inline=True)
    try:
        reference = correct(pipeline, employer, period, file, kind, reason)
    finally:
        pipeline.close()
    label = "complémentaire" if kind == "complementary" else "rectificative"
    click.echo(f"déclaration {label} enregistrée: {reference}")
    click.echo(f"avis de correction déposé pour l'abonné: <employeur>/corrections/{period}/avis-correction-{reference}"
               ".pdf|.xml (et un e-mail) ; `gateway account " + employer + "` montre son effet sur le compte")


def _overview(ctx: Context, store: Any) -> None:
    from gateway.health import instances

    running = instances(ctx.config.jobs_dir)
    if not running:
        click.echo("instances        aucune en marche (gateway run)")
    for i in running:
        state = {"ready": "prête", "degraded": "DÉGRADÉE", "stopped": "arrêtée sans le dire"}.get(i.state, i.state)
        line = f"instance         {i.host} pid {i.pid}  {state}"
        if i.state == "degraded":
            line += f" depuis {i.since} ({i.reason}: {i.detail})"
        click.echo(line + (f"  dernier lot {i.last_batch}" if i.last_batch else ""))
    click.echo(f"en attente       {store.pending_count()} fichier(s)")
    aside = store.set_aside()
    click.echo(f"mis de côté      {len(aside)} fichier(s)" + ("  (gateway failed list)" if aside else ""))


COMMANDS = [intake, status, history, declaration]


def _employees(count: int) -> str:
    return f"{count} salarié" + ("s" if count > 1 else "")
