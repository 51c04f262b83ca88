"""``gateway failed``: the files the intake set aside, with the reason of each, and giving them back.

A file is set aside when a bug met it: parked as ``failed`` when nothing of it was recorded (a retry judges
it afresh), or held at its state when its records were committed (a retry makes its documents). A fault of
the database or the disk never sets a file aside: such files wait at their state and go on by themselves.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli import EXIT_OK, Context, fail, handle_errors, pass_ctx


@click.group()
def failed() -> None:
    """Files set aside by the intake: list them with their reason, give them back to it."""


@failed.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def failed_list(ctx: Context, as_json: bool) -> None:
    """Each file set aside: reference, subscriber, name, state, and why."""
    from gateway.store.intake import IntakeStore

    rows = IntakeStore(ctx.store).set_aside()
    if as_json:
        import json

        click.echo(json.dumps([_as_dict(ctx, r) for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("aucun fichier mis de côté")
        return
    for r in rows:
        what = "en échec (rien d'enregistré)" if r.state == "failed" else f"retenu à l'état {r.state} (enregistré)"
        click.echo(f"{r.reference}  abonné {r.subscriber}  « {r.original_name} »  "
                   f"reçu le {r.received_at.astimezone(ctx.config.tz):%d/%m/%Y %H:%M}  {what}")
        click.echo(f"  raison : {(r.error or 'inconnue').splitlines()[0][:300]}")
    click.echo(f"{len(rows)} fichier(s) ; « gateway failed retry RÉFÉRENCE » ou « --all » pour les reprendre")


@failed.command("retry")
@click.argument("reference", required=False)
@click.option("--all", "every", is_flag=True, help="Every file set aside.")
@pass_ctx
@handle_errors
def failed_retry(ctx: Context, reference: str | None, every: bool) -> None:
    """Give REFERENCE (or, with --all, every file set aside) back to the intake: the next batch takes it."""
    from gateway.store.intake import IntakeStore

    if bool(reference) == every:
        fail("donnez une référence, ou --all (pas les deux)")
    store = IntakeStore(ctx.store)
    aside = store.set_aside()
    chosen = aside if every else [r for r in aside if r.reference == reference]
    if not chosen:
        known = store.find_file(reference) if reference else []
        fail(f"l'envoi {reference} n'est pas mis de côté (état : {known[0].state})" if known
             else f"aucun envoi mis de côté ne correspond à « {reference} »")
    for r in chosen:
        state = store.requeue(r.id)
        click.echo(f"{r.reference}  repris à l'état {state}")
    click.echo(f"{len(chosen)} fichier(s) repris ; le prochain lot de l'intake les traite")
    sys.exit(EXIT_OK)


def _as_dict(ctx: Context, r: Any) -> dict[str, Any]:
    return {"reference": r.reference, "subscriber": r.subscriber, "name": r.original_name, "state": r.state,
            "records_kept": r.state != "failed", "received_at": r.received_at.astimezone(ctx.config.tz).isoformat(),
            "reason": r.error}


COMMANDS = [failed]
