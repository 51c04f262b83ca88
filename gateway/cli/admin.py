"""Operator commands: init, database, subscribers, employers, registers, demo data."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from gateway.cli import EXIT_OK, ISO_DATE, Context, fail, handle_errors, pass_ctx


def _today(ctx: Context) -> date:
    from gateway.clock import system_clock

    return system_clock(ctx.config.tz).today()


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    if len(secret) < 12:
        fail("mot de passe trop court (12 caractères au moins)")
    return secret




# init / db -------------------------------------------------------------------------------------------
@click.command()
@pass_ctx
@handle_errors
def init(ctx: Context) -> None:
    """Create the working folders and the database (safe to run again).

    Every subscriber on record gets its drop folder inbox/<number>/ and outbox/<number>/acknowledgements/.
    """
    from gateway.bootstrap import initialise

    for line in initialise(ctx.config):
        click.echo(line)


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_ctx
@handle_errors
def db_upgrade(ctx: Context) -> None:
    """Bring the database schema to the code's version; a second run changes nothing."""
    from gateway.store.repo import Store

    store = Store.connect(ctx.config)
    before, after = store.upgrade()
    if before == after:
        click.echo(f"schéma déjà à jour (révision {after})")
    else:
        click.echo(f"schéma mis à jour: {before or 'vide'} → {after}")


@db.command("current")
@pass_ctx
@handle_errors
def db_current(ctx: Context) -> None:
    """Show the database's schema revision and the code's."""
    from gateway.store import db as dbmod
    from gateway.store.repo import Store

    store = Store.connect(ctx.config)
    click.echo(f"base: {dbmod.current_revision(store.engine) or 'vide'}  code: {dbmod.head_revision()}")


# subscribers -----------------------------------------------------------------------------------------
@click.group()
def subscriber() -> None:
    """Subscribers (abonnés): accounts that upload files."""


@subscriber.command("add")
@click.argument("number")
@click.option("--name", required=True, help="Name of the firm or employer.")
@click.option("--email", help="E-mail address (to be verified).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@click.option("--no-password", is_flag=True, help="Create without a password (SSH key login only).")
@pass_ctx
@handle_errors
def subscriber_add(
    ctx: Context, number: str, name: str, email: str | None, password_stdin: bool, no_password: bool
) -> None:
    """Create a subscriber NUMBER (5 to 10 digits), with its drop folder inbox/<number>/ and
    outbox/<number>/acknowledgements/."""
    password = None if no_password else _read_secret("Mot de passe", password_stdin)
    from gateway.bootstrap import subscriber_folders

    ctx.store.add_subscriber(number, name, email=email, password=password)
    inbox, _outbox = subscriber_folders(ctx.config, number)
    click.echo(f"abonné {number} créé; dépôt {inbox}")


@subscriber.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def subscriber_list(ctx: Context, as_json: bool) -> None:
    """List subscribers."""
    rows = ctx.store.list_subscribers()
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        flags = []
        if r["disabled"]:
            flags.append("désactivé")
        if not r["email_verified_at"]:
            flags.append("e-mail non vérifié")
        click.echo(f"{r['number']:>10}  {r['name']}  ({len(r['employers'])} employeurs)"
                   + (f"  [{', '.join(flags)}]" if flags else ""))


@subscriber.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def subscriber_show(ctx: Context, number: str, as_json: bool) -> None:
    """Show one subscriber and the employers it declares for."""
    r = ctx.store.show_subscriber(number)
    if as_json:
        _echo_json(r)
        return
    click.echo(f"abonné        {r['number']}  {r['name']}")
    click.echo(f"e-mail        {r['email'] or '—'}  "
               + (f"(vérifié le {r['email_verified_at']:%d/%m/%Y})" if r["email_verified_at"] else "(non vérifié)"))
    click.echo(f"mot de passe  {'oui' if r['has_password'] else 'non'}   clés SSH: {len(r['keys'])}")
    for fp in r["keys"]:
        click.echo(f"  clé {fp}")
    click.echo(f"état          {'désactivé' if r['disabled'] else 'actif'}")
    for e in r["employers"]:
        until = f" au {e['to']:%d/%m/%Y}" if e["to"] else ""
        click.echo(f"  employeur {e['number']}  {e['name']}  (du {e['from']:%d/%m/%Y}{until})")


@subscriber.command("set-password")
@click.argument("number")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@pass_ctx
@handle_errors
def subscriber_set_password(ctx: Context, number: str, password_stdin: bool) -> None:
    """Set a subscriber's password (at least 12 characters)."""
    ctx.store.set_password(number, _read_secret("Nouveau mot de passe", password_stdin))
    click.echo(f"mot de passe de l'abonné {number} changé")


@subscriber.command("add-key")
@click.argument("number")
@click.argument("key_file", type=click.File("r"))
@pass_ctx
@handle_errors
def subscriber_add_key(ctx: Context, number: str, key_file: Any) -> None:
    """Register an OpenSSH public key (file, or - for standard input) for SFTP login."""
    fingerprint = ctx.store.add_key(number, key_file.read())
    click.echo(f"clé {fingerprint} enregistrée pour l'abonné {number}")


@subscriber.command("disable")
@click.argument("number")
@click.option("--enable", is_flag=True, help="Re-enable instead.")
@pass_ctx
@handle_errors
def subscriber_disable(ctx: Context, number: str, enable: bool) -> None:
    """Disable a subscriber (no login, no upload); --enable reverses it."""
    ctx.store.set_disabled(number, not enable)
    click.echo(f"abonné {number} {'réactivé' if enable else 'désactivé'}")


# employers -------------------------------------------------------------------------------------------
@click.group()
def employer() -> None:
    """Employers (clients) and which subscriber declares for them."""


@employer.command("add")
@click.argument("number")
@click.option("--name", required=True, help="Company name.")
@click.option("--address", default="", help="Postal address (one line).")
@click.option("--building-trade", is_flag=True, help="Building-trade employer (CCPB contributions).")
@click.option("--household", is_flag=True, help="Household employer (employeur de gens de maison).")
@pass_ctx
@handle_errors
def employer_add(ctx: Context, number: str, name: str, address: str, building_trade: bool, household: bool) -> None:
    """Create an employer NUMBER (5 to 9 digits)."""
    ctx.store.add_employer(number, name, address, building_trade=building_trade, household=household)
    click.echo(f"employeur {number} créé")


@employer.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def employer_list(ctx: Context, as_json: bool) -> None:
    """List employers."""
    rows = ctx.store.list_employers()
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        flags = [f for f, on in (("BTP", r["building_trade"]), ("gens de maison", r["household"]),
                                 ("prélèvement", r["direct_debit"]), ("inactif", not r["active"])) if on]
        click.echo(f"{r['number']:>9}  {r['name']}" + (f"  [{', '.join(flags)}]" if flags else ""))


@employer.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def employer_show(ctx: Context, number: str, as_json: bool) -> None:
    """Show one employer, its mandate and its subscribers."""
    r = ctx.store.show_employer(number)
    if as_json:
        _echo_json(r)
        return
    click.echo(f"employeur     {r['number']}  {r['name']}")
    click.echo(f"adresse       {r['address'] or '—'}")
    click.echo(f"état          {'actif' if r['active'] else 'inactif'}"
               + ("  BTP" if r["building_trade"] else "") + ("  gens de maison" if r["household"] else ""))
    if r["direct_debit"]:
        click.echo(f"prélèvement   mandat {r['mandate_reference']} signé le {r['mandate_signed_on']:%d/%m/%Y}")
    else:
        click.echo("prélèvement   non")
    for s in r["subscribers"]:
        until = f" au {s['to']:%d/%m/%Y}" if s["to"] else ""
        click.echo(f"  déclaré par l'abonné {s['number']} (du {s['from']:%d/%m/%Y}{until})")


@employer.command("assign")
@click.argument("number")
@click.option("--subscriber", "subscriber_number", required=True, help="Subscriber that will declare.")
@click.option("--from", "valid_from", type=ISO_DATE, help="First day (default: today).")
@pass_ctx
@handle_errors
def employer_assign(ctx: Context, number: str, subscriber_number: str, valid_from: date | None) -> None:
    """Let a subscriber declare for employer NUMBER from a date."""
    ctx.store.assign(subscriber_number, number, valid_from or _today(ctx))
    click.echo(f"l'abonné {subscriber_number} déclare pour l'employeur {number}")


@employer.command("unassign")
@click.argument("number")
@click.option("--subscriber", "subscriber_number", required=True, help="Subscriber that stops declaring.")
@click.option("--to", "valid_to", type=ISO_DATE, help="Last day (default: today).")
@pass_ctx
@handle_errors
def employer_unassign(ctx: Context, number: str, subscriber_number: str, valid_to: date | None) -> None:
    """End a subscriber's assignment to employer NUMBER."""
    ctx.store.unassign(subscriber_number, number, valid_to or _today(ctx))
    click.echo(f"l'abonné {subscriber_number} ne déclare plus pour l'employeur {number}")


# registers -------------------------------------------------------------------------------------------
@click.group()
def employee() -> None:
    """Employees (salariés) from the Caisses' register."""


@employee.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def employee_import(ctx: Context, file: Path) -> None:
    """Import employees (and employments) from a CSV file: all rows or none.

    Columns: registration;last_name;first_name;birth_date and optionally employer;start;end.
    """
    from gateway.registers import read_employees

    people, jobs = ctx.store.import_employees(read_employees(file.read_bytes()))
    click.echo(f"{people} salariés importés, {jobs} emplois créés")


@click.group()
def permit() -> None:
    """Work permits (autorisations d'embauche) from the Caisses' register."""


@permit.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def permit_import(ctx: Context, file: Path) -> None:
    """Import work permits from a CSV file (employer;registration;valid_from[;valid_to]): all rows or none."""
    from gateway.registers import read_permits

    count = ctx.store.import_permits(read_permits(file.read_bytes()))
    click.echo(f"{count} autorisations importées")


@click.command("demo-data")
@pass_ctx
@handle_errors
def demo_data(ctx: Context) -> None:
    """Load demo records: an accounting firm with three clients, an employer declaring for itself."""
    from gateway import demo
    from gateway.bootstrap import subscriber_folders

    loaded = demo.load(ctx.store)
    for number in (demo.FIRM[0], demo.SELF[0]):
        subscriber_folders(ctx.config, number)
    if loaded:
        click.echo(f"données de démonstration chargées: abonnés {demo.FIRM[0]} et {demo.SELF[0]}, "
                   f"mot de passe « {demo.PASSWORD} »")
    else:
        click.echo("données de démonstration déjà présentes")
    sys.exit(EXIT_OK)


COMMANDS = [init, db, subscriber, employer, employee, permit, demo_data]
