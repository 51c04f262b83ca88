"""``gateway validate FILE...``: the validator payroll vendors run in their own CI.

Offline by default: the format (XSD or CSV rules) and every declaration rule that needs no records.
With ``--subscriber N``, every rule, against the gateway's database, as that subscriber would be judged.
Exit 0 when every file is valid (warnings allowed), 1 when one is not, 2 when a file could not be checked.
The ``--json`` shape is documented in docs/formats.md ("Sortie JSON de gateway validate").
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from gateway.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ISO_DATE, Context, handle_errors, pass_ctx
from gateway.domain import Finding, ReadResult
from gateway.rules.context import CheckContext, Verdict

JSON_VERSION = 1


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--subscriber", metavar="N", help="Check every rule against the database, as this subscriber.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (shape in docs/formats.md).")
@click.option(
    "--today",
    type=ISO_DATE,
    help="Day of receipt for the period rules (default: today, gateway time zone).",
)
@pass_ctx
@handle_errors
def validate(
    ctx: Context, files: tuple[Path, ...], subscriber: str | None, as_json: bool, today: date | None
) -> None:
    """Check declaration and payslip files against the formats and rules, without sending them.

    Exit status: 0 valid, 1 invalid, 2 a file could not be checked.
    """
    from gateway import formats

    config = ctx.config
    if today is None:
        from gateway.clock import system_clock

        today = system_clock(config.tz).today()
    limits = formats.Limits.from_config(config.intake)
    context = CheckContext.from_config(config, today, subscriber)
    view = ctx.store.records_view(subscriber) if subscriber else None
    reports = []
    for path in files:
        try:
            size = path.stat().st_size
            data = b"" if size > limits.max_file_bytes else path.read_bytes()
        except OSError as exc:
            reports.append({"file": str(path), "error": f"lecture impossible: {exc.strerror or exc}"})
            continue
        result = formats.read(data, path.name, limits, size=size)
        verdicts = formats.check(result, context, view)
        reports.append(_report(str(path), result, verdicts))
    if as_json:
        valid = all(r.get("valid") for r in reports)
        click.echo(
            json.dumps(
                {"version": JSON_VERSION, "valid": valid, "files": reports}, ensure_ascii=False, indent=2
            )
        )
    else:
        for report in reports:
            _print_human(report)
    if any("error" in r for r in reports):
        raise SystemExit(EXIT_ERROR)
    raise SystemExit(EXIT_OK if all(r["valid"] for r in reports) else EXIT_FINDINGS)


def finding_json(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "code": f.code,
        "severity": f.severity.value,
        "message": f.message,
        "line": loc.line,
        "column": loc.column,
        "xpath": loc.xpath,
        "field": loc.field,
        "expected": f.expected,
    }


def _report(name: str, result: ReadResult, verdicts: tuple[Verdict, ...]) -> dict[str, Any]:
    value: Any = result.value
    items_src = (
        () if value is None else getattr(value, "declarations", None) or getattr(value, "requests", ())
    )
    items = []
    for item, verdict in zip(items_src, verdicts, strict=True):
        entry: dict[str, Any] = {
            "index": verdict.index,
            "employer": item.employer,
            "period": str(item.period),
            "valid": verdict.accepted,
            "late": verdict.late,
            "findings": [finding_json(f) for f in verdict.findings],
            "total_findings": verdict.total_findings,
        }
        if hasattr(item, "lines"):
            entry["employees"] = len(item.lines)
        else:
            entry["registration"] = item.registration
        items.append(entry)
    return {
        "file": name,
        "valid": result.ok and all(v.accepted for v in verdicts),
        "kind": result.kind.value if result.kind else None,
        "format": result.extra.get("format"),
        "test": bool(getattr(value, "test", False)),
        "findings": [finding_json(f) for f in result.findings],
        "total_findings": result.total_findings,
        "items": items,
    }


_SEVERITY_FR = {"error": "erreur", "warning": "avertissement"}


def _line(f: dict[str, Any], indent: str) -> str:
    where = []
    if f["line"] is not None:
        where.append(f"ligne {f['line']}")
    if f["field"]:
        where.append(f"colonne « {f['field']} »")
    elif f["column"] is not None:
        where.append(f"colonne {f['column']}")
    place = ", ".join(where)
    if f["xpath"]:
        place = f"{place} ({f['xpath']})" if place else f["xpath"]
    text = f"{indent}{_SEVERITY_FR[f['severity']]} {f['code']}"
    text += f" {place} : {f['message']}" if place else f" : {f['message']}"
    if f["expected"]:
        text += f" — attendu : {f['expected']}"
    return text


def _print_human(r: dict[str, Any]) -> None:
    if "error" in r:
        click.echo(f"{r['file']} : non vérifié — {r['error']}")
        return
    what = ", ".join(x for x in (r["kind"], r["format"], "TEST" if r["test"] else None) if x)
    click.echo(f"{r['file']} : {'valide' if r['valid'] else 'INVALIDE'}" + (f" ({what})" if what else ""))
    for f in r["findings"]:
        click.echo(_line(f, "  "))
    if r["total_findings"] > len(r["findings"]):
        click.echo(f"  … et {r['total_findings'] - len(r['findings'])} autre(s) problème(s)")
    for item in r["items"]:
        label = "déclaration" if "employees" in item else "bulletin"
        status = "acceptée" if item["valid"] else "refusée"
        if item["late"]:
            status += " (en retard)"
        who = f"employeur {item['employer']}, période {item['period']}"
        if "registration" in item:
            who += f", matricule {item['registration']}"
        if item["findings"] or not item["valid"]:
            click.echo(f"  {label} n° {item['index']} ({who}) : {status}")
        for f in item["findings"]:
            click.echo(_line(f, "    "))
        if item["total_findings"] > len(item["findings"]):
            click.echo(f"    … et {item['total_findings'] - len(item['findings'])} autre(s) problème(s)")


COMMANDS = [validate]
