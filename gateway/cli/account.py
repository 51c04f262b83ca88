"""The employer's account for operators: ``gateway account`` (its entries and a running balance),
``gateway sepa returns`` (the bank's reports on collections) and ``gateway employer clear-incident``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from gateway.cli import EXIT_FINDINGS, Context, handle_errors, pass_ctx
from gateway.cli.admin import employer
from gateway.cli.jobs import _now, _period, sepa


def _entries_json(rows: list[tuple[Any, Decimal]]) -> list[dict[str, Any]]:
    return [{"id": e.id, "at": e.at.isoformat(), "period": e.period, "kind": e.kind, "source": e.source,
             "amount": str(e.amount), "balance": str(b), "note": e.note or None,
             "lines": [{"fund": x.fund, "share": x.share.value, "base": str(x.base),
                        "rate": None if x.rate is None else str(x.rate), "amount": str(x.amount)} for x in e.lines]}
            for e, b in rows]


@click.command("account")
@click.argument("employer_number", metavar="EMPLOYER")
@click.option("--period", help="Only this period YYYY-MM (its running balance starts from the earlier periods').")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (entries with their lines).")
@pass_ctx
@handle_errors
def account(ctx: Context, employer_number: str, period: str | None, as_json: bool) -> None:
    """The account (compte cotisant) of EMPLOYER: every entry with its source and the running balance.

    Declarations add what they owe, a rectifying declaration the difference from what was owed before, a
    collection exported in a pain.008 subtracts, a returned collection adds back. The balance is what the
    statements and the pain.008 read.
    """
    from gateway.money import ZERO
    from gateway.rules.account import KIND_FR, balance
    from gateway.store.account import AccountStore

    chosen = _period(period)
    store = AccountStore(ctx.store)
    employer_id = store.employer_id(employer_number)
    entries = store.entries(employer_id)
    running = balance(entries, before=str(chosen)) if chosen else ZERO
    opening = running
    rows = []
    for e in entries:
        if chosen and e.period != str(chosen):
            continue
        running += e.amount
        rows.append((e, running))
    info = ctx.store.show_employer(employer_number)
    incident = info.get("payment_incident_at")
    if as_json:
        click.echo(json.dumps({"employer": employer_number, "period": str(chosen) if chosen else None,
                               "opening_balance": str(opening), "balance": str(running),
                               "payment_incident_at": incident.isoformat() if incident else None,
                               "entries": _entries_json(rows)}, ensure_ascii=False, indent=2))
        return
    tz = ctx.config.tz
    click.echo(f"compte de l'employeur {employer_number} — {info.get('name', '')}")
    if chosen:
        click.echo(f"{'':<16} {'':<7} {'solde des périodes précédentes':<54} {'':>12} {opening:>12}")
    for e, b in rows:
        what = f"{KIND_FR.get(e.kind, e.kind)} {e.source}"
        click.echo(f"{e.at.astimezone(tz):%Y-%m-%d %H:%M} {e.period:<7} {what:<54} {e.amount:>12} {b:>12}")
        if e.note and e.kind != "collection":
            click.echo(f"{'':<24} motif : {e.note}")
    state = (f"reste dû {running} EUR" if running > 0 else f"crédit de {-running} EUR, reporté" if running < 0
             else "soldé")
    click.echo(f"{len(rows)} écriture(s) — {state}")
    if incident:
        click.echo(f"incident de paiement depuis le {incident.astimezone(tz):%Y-%m-%d} : prélèvement suspendu, "
                   f"relevés sur papier (`gateway employer clear-incident {employer_number}`)")


@sepa.command("returns")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def sepa_returns(ctx: Context, file: Path, as_json: bool) -> None:
    """Import the bank's report FILE (pain.002 status report or camt.054 notification).

    A rejected or returned collection is reversed on its employer's account (the amount is owed again),
    the employer is flagged « incident de paiement » and its subscriber gets an e-mail. Unknown EndToEndIds
    and a file already imported are reported; nothing is applied twice. Exit 1 when something was reported.
    """
    import sys

    from gateway.incidents import import_report

    report = import_report(ctx.config, ctx.store, file.read_bytes(), file.name, _now(ctx))
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.describe())
    if report.problems:
        sys.exit(EXIT_FINDINGS)


@employer.command("clear-incident")
@click.argument("number")
@pass_ctx
@handle_errors
def employer_clear_incident(ctx: Context, number: str) -> None:
    """Lift the payment incident of employer NUMBER: direct debit and statements by file resume."""
    from gateway.store.account import AccountStore

    was = AccountStore(ctx.store).clear_incident(number)
    if was is None:
        click.echo(f"employeur {number} : aucun incident de paiement en cours")
    else:
        click.echo(f"employeur {number} : incident de paiement du {was.astimezone(ctx.config.tz):%Y-%m-%d} levé ; "
                   "prélèvement et relevés par fichier repris")


COMMANDS = [account]
