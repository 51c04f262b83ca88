"""Operator commands about rates: what is in force on a date, and whether the rates data is sound."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import click

from gateway.cli import EXIT_FINDINGS, EXIT_OK, Context, fail, handle_errors, pass_ctx
from gateway.rules.rates import DatedValue, Parameter, RateBook, all_values, describe, is_stale


def _today(ctx: Context) -> date:
    from gateway.clock import system_clock

    return system_clock(ctx.config.tz).today()


def _row(p: Parameter, v: DatedValue | None, on: date, stale_after_days: int) -> dict[str, object]:
    if v is None:
        return {"parameter": p.name, "label": p.label, "description": p.description, "unit": p.unit.value,
                "value": None}
    return {
        "parameter": p.name, "label": p.label, "description": p.description, "unit": p.unit.value,
        "value": format(v.value, "f"), "since": v.since.isoformat(), "source": v.source,
        "grade": v.grade.value, "checked": v.checked.isoformat(), "note": v.note,
        "components": {name: format(part, "f") for name, part in v.components},
        "unconfirmed": v.unconfirmed, "stale": is_stale(v.checked, on, stale_after_days), "origin": v.origin,
    }


@click.group()
def rates() -> None:
    """Monaco rates and ceilings (dated data): show what applies, check the data."""


@rates.command()
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The date (AAAA-MM-JJ); default: today.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
@handle_errors
def show(ctx: Context, on: datetime | None, as_json: bool) -> None:
    """Every parameter in force on a date: label, value, since, source, grade, last check, flags."""
    day = on.date() if on else _today(ctx)
    book = RateBook.from_config(ctx.config)
    margin = ctx.config.rates.stale_after_days
    rows = [_row(p, v, day, margin) for p, v in book.in_force(day)]
    if as_json:
        click.echo(json.dumps({"date": day.isoformat(), "sources": list(book.sources), "parameters": rows},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"Taux et plafonds en vigueur le {day:%d/%m/%Y} (données : {', '.join(book.sources)})")
    for p, v in book.in_force(day):
        if v is None:
            click.echo(f"\n{p.name} : aucune valeur en vigueur")
            click.echo(f"  {p.label} — {p.description}")
            continue
        flags = "".join(["  NON CONFIRMÉ" if v.unconfirmed else "",
                         "  À REVÉRIFIER" if is_stale(v.checked, day, margin) else ""])
        click.echo(f"\n{p.name} = {describe(v.value, p.unit)} depuis le {v.since:%d/%m/%Y}  "
                   f"[{v.grade.value}, vérifié le {v.checked:%d/%m/%Y}]{flags}")
        click.echo(f"  {p.label} — {p.description}")
        if v.components:
            click.echo("  composantes : " + " + ".join(f"{n} {describe(c, p.unit)}" for n, c in v.components))
        click.echo(f"  source : {v.source}")
        if v.note:
            click.echo(f"  note : {v.note}")


@rates.command()
@pass_ctx
@handle_errors
def check(ctx: Context) -> None:
    """Read and validate the rates data (package and rates_dir); exit 1 if a value in force is stale."""
    from gateway.rules.contributions import REQUIRED_PARAMETERS

    book = RateBook.from_config(ctx.config)  # a malformed file is a RateError: one line, exit 2
    problems = [f"paramètre manquant : {name}" for name in REQUIRED_PARAMETERS if name not in book.parameters]
    problems += _share_problems(book)
    values = list(all_values(book))
    today = _today(ctx)
    margin = ctx.config.rates.stale_after_days
    unconfirmed = [f"{p.name} depuis le {v.since:%d/%m/%Y}" for p, v in values if v.unconfirmed]
    operator = [f"{p.name} depuis le {v.since:%d/%m/%Y} ({v.origin})" for p, v in values
                if len(book.sources) > 1 and v.origin.startswith(book.sources[1])]
    stale = [f"{p.name} depuis le {v.since:%d/%m/%Y}, vérifié le {v.checked:%d/%m/%Y}"
             for p, v in book.in_force(today) if v is not None and is_stale(v.checked, today, margin)]
    click.echo(f"{len(book.parameters)} paramètres, {len(values)} valeurs datées lues dans : "
               f"{', '.join(book.sources)}")
    for title, items in (("valeurs non confirmées", unconfirmed), ("valeurs de l'opérateur", operator),
                         (f"valeurs en vigueur vérifiées il y a plus de {margin} jours", stale),
                         ("problèmes", problems)):
        if items:
            click.echo(f"{title} ({len(items)}) :")
            for item in items:
                click.echo(f"  - {item}")
    if problems:
        fail(f"données de taux incomplètes ou incohérentes ({len(problems)} problème(s))")
    _exit(EXIT_FINDINGS if stale else EXIT_OK)


def _share_problems(book: RateBook) -> list[str]:
    """The CMRC employer and employee shares must add up to 100 % at every date either changes."""
    names = ("cmrc/employer_share", "cmrc/employee_share")
    if not all(n in book.parameters for n in names):
        return []
    days = sorted({v.since for n in names for v in book.parameters[n].values})
    out = []
    for day in days:
        try:
            total = sum((book.value(n, day).value for n in names), Decimal(0))
        except LookupError:
            out.append(f"parts CMRC incomplètes le {day:%d/%m/%Y}")
            continue
        if total != 1:
            out.append(f"parts CMRC employeur + salarié = {total} le {day:%d/%m/%Y} (1 attendu)")
    return out


def _exit(code: int) -> None:
    click.get_current_context().exit(code)


COMMANDS = [rates]
