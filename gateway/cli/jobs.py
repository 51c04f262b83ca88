"""Operator commands of the scheduled jobs and their documents: jobs, workforce, clients, SEPA, retention,
and the e-mail / direct-debit commands added to the ``subscriber`` and ``employer`` groups."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from gateway.cli import ISO_DATE, Context, fail, handle_errors, pass_ctx
from gateway.cli.admin import employer, subscriber


def _now(ctx: Context):  # type: ignore[no-untyped-def]
    from gateway.clock import system_clock

    return system_clock(ctx.config.tz).now()


def _period(text: str | None):  # type: ignore[no-untyped-def]
    from gateway.domain import Period

    if text is None:
        return None
    try:
        return Period.parse(text)
    except ValueError as exc:
        fail(str(exc))


def _report(result, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.job} {result.key or ''}: {len(result.produced)} produit(s), {result.mails} e-mail(s), "
               f"{result.skipped} déjà présent(s)")
    for line in result.produced + [f"(à produire) {p}" for p in result.planned] + result.notes:
        click.echo(f"  {line}")


@click.group()
def jobs() -> None:
    """Scheduled jobs: list them, run one now."""


@jobs.command("list")
@pass_ctx
@handle_errors
def jobs_list(ctx: Context) -> None:
    """Each job with its schedule, next run, and last run and its status."""
    from gateway.store.jobs import JobsStore
    from gateway.triggers import jobs_section, parse_trigger

    section, now, runs = jobs_section(ctx.config), _now(ctx), JobsStore(ctx.store)
    from gateway.schedule import job_names

    for name in job_names():
        spec = getattr(section, name)
        trigger = parse_trigger(spec, ctx.config.tz)
        nxt = trigger.get_next_fire_time(None, now) if trigger else None
        last = runs.last_run(name)
        last_text = f"{last[1].astimezone(ctx.config.tz):%Y-%m-%d %H:%M} {last[2]} ({last[3]})" if last else "jamais"
        click.echo(f"{name:<11} {spec or 'désactivée':<18} prochaine: "
                   f"{nxt.strftime('%Y-%m-%d %H:%M') if nxt else '—':<17} dernière: {last_text}")


@jobs.command("run")
@click.argument("name")
@click.option("--period", help="Period YYYY-MM (default: the job's own period for today).")
@click.option("--dry-run", is_flag=True, help="Show what would be produced; write and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def jobs_run(ctx: Context, name: str, period: str | None, dry_run: bool, as_json: bool) -> None:
    """Run job NAME now (prefill, reminders, statements, mandates, workforce, synthesis, retention)."""
    from gateway.jobs import run_job
    from gateway.store.jobs import JobsStore

    result = run_job(ctx.config, ctx.store, name, _period(period), dry_run=dry_run)
    _report(result, as_json)
    last = JobsStore(ctx.store).last_run(name)
    if not dry_run and last and last[2] == "failed":
        fail(f"la tâche {name} a échoué (voir jobs/{last[0]}/manifest.json)")


@click.command("workforce")
@click.argument("employer_number", metavar="EMPLOYER")
@click.option("--period", help="Period YYYY-MM (default: the current month).")
@pass_ctx
@handle_errors
def workforce(ctx: Context, employer_number: str, period: str | None) -> None:
    """Write the workforce (effectif) of EMPLOYER for a period, as CSV and PDF, into its outbox folder."""
    import secrets

    from gateway.domain import Period
    from gateway.jobs.base import JobContext, JobResult
    from gateway.jobs.workforce import produce

    now = _now(ctx)
    chosen = _period(period) or Period.of(now.date())
    jctx = JobContext(ctx.config, ctx.store, now, f"workforce-{secrets.token_hex(3)}")
    result = JobResult("workforce", str(chosen))
    produce(jctx, result, jctx.jobs.client(employer_number, min(now.date(), chosen.last_day)), chosen)
    _report(result, False)


@click.command("clients")
@click.option("--subscriber", "number", required=True, help="Subscriber number.")
@click.option("--filter", "which", type=click.Choice(["pending", "active", "inactive", "all"]), default="pending",
              show_default=True, help="pending: active clients whose declaration is still to make.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def clients(ctx: Context, number: str, which: str, as_json: bool) -> None:
    """A subscriber's clients and their declaration for the current period (as on the portal)."""
    from gateway.jobs.base import JobContext, declaring_period
    from gateway.jobs.synthesis import client_statuses

    now = _now(ctx)
    jctx = JobContext(ctx.config, ctx.store, now, "clients")
    jctx.jobs.subscriber_info(number)  # NotFound for an unknown subscriber
    rows = client_statuses(jctx, number, declaring_period(ctx.config, now.date()))
    keep = {"pending": lambda r: r.active and not r.reference, "active": lambda r: r.active,
            "inactive": lambda r: not r.active, "all": lambda r: True}[which]
    rows = [r for r in rows if keep(r)]
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=2, default=str))
        return
    for r in rows:
        made = f"{r.reference} ({r.declared_at:%Y-%m-%d})" if r.reference and r.declared_at else ""
        click.echo(f"{r.employer:<10} {r.status_fr:<9} {'EN RETARD ' if r.late else ''}{r.name} {made}".rstrip())
    click.echo(f"{len(rows)} client(s)")


@click.group()
def sepa() -> None:
    """SEPA direct debit: the pain.008 batch for the Caisses' bank."""


@sepa.command("export")
@click.option("--period", required=True, help="Period YYYY-MM whose contributions are collected.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: jobs/sepa/pain008-<period>-<MsgId>.xml).")
@click.option("--dry-run", is_flag=True, help="List what would be collected; record and write nothing.")
@pass_ctx
@handle_errors
def sepa_export(ctx: Context, period: str, output: Path | None, dry_run: bool) -> None:
    """Write the pain.008.001.02 batch of PERIOD from the employers' accounts (validated against its XSD).

    Only what is not yet collected goes in it, each collection under its own EndToEndId; run again with
    nothing new to collect, it gives back the period's last batch unchanged (same MsgId, same bytes).
    """
    from gateway.files import atomic_write
    from gateway.sepa import export

    now = _now(ctx)
    batch = export(ctx.config, ctx.store, _period(period), now.date(), now, dry_run=dry_run)
    for note in batch.notes:
        click.echo(f"  non prélevé — {note}")
    if dry_run:
        for c in batch.collections:
            click.echo(f"  {c.employer} {c.name}: {c.amount} EUR ({c.end_to_end_id})")
        click.echo(f"à prélever le {batch.collection_date}: {batch.payments} prélèvement(s), {batch.total} EUR "
                   "(simulation : rien n'est enregistré)")
        return
    target = output or ctx.config.jobs_dir / "sepa" / f"pain008-{period}-{batch.message_id}.xml"
    atomic_write(target.resolve(), batch.xml)
    if batch.again:
        click.echo(f"{target}: rien de nouveau à prélever ; dernier lot de la période inchangé "
                   f"(MsgId {batch.message_id}, {batch.payments} prélèvement(s), {batch.total} EUR, "
                   f"le {batch.collection_date})")
        return
    for c in batch.collections:
        click.echo(f"  {c.employer} {c.name}: {c.amount} EUR ({c.end_to_end_id})")
    click.echo(f"{target}: {batch.payments} prélèvement(s), {batch.total} EUR, le {batch.collection_date} "
               f"(MsgId {batch.message_id})")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="List what would leave the outbox; remove nothing.")
@pass_ctx
@handle_errors
def retention(ctx: Context, dry_run: bool) -> None:
    """Remove documents older than 24 months from the outbox (the database keeps their record)."""
    from gateway.jobs import run_job

    _report(run_job(ctx.config, ctx.store, "retention", dry_run=dry_run), False)


@subscriber.command("set-email")
@click.argument("number")
@click.argument("address")
@pass_ctx
@handle_errors
def subscriber_set_email(ctx: Context, number: str, address: str) -> None:
    """Set the e-mail ADDRESS of subscriber NUMBER and send it a verification code."""
    from gateway import notify
    from gateway.verification import FILE_NAME, set_email

    now = _now(ctx)
    set_email(ctx.store, number, address, now)
    report = notify.send_pending(ctx.config, ctx.store, now)
    state = "envoyé" if report.sent else "en file d'attente (nouvel essai automatique)"
    click.echo(f"adresse enregistrée, non validée ; code {state} : l'abonné dépose {FILE_NAME} avec ce code")


@employer.command("set-direct-debit")
@click.argument("number")
@click.option("--iban", required=True, help="IBAN of the account to debit.")
@click.option("--bic", required=True, help="BIC of the debtor's bank.")
@click.option("--signed-on", required=True, type=ISO_DATE, help="Date the mandate was signed (YYYY-MM-DD).")
@pass_ctx
@handle_errors
def employer_set_direct_debit(ctx: Context, number: str, iban: str, bic: str, signed_on: date) -> None:
    """Record the signed SEPA mandate returned by employer NUMBER: it is on direct debit from now on."""
    from gateway.sepa import set_direct_debit

    reference = set_direct_debit(ctx.store, number, iban, bic, signed_on)
    click.echo(f"employeur {number} en prélèvement automatique (mandat {reference})")


COMMANDS = [jobs, workforce, clients, sepa, retention]
