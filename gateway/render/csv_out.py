"""CSV documents for people who open them in Excel: ``;`` separator, UTF-8 with BOM, no formula injection.

A cell from data that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a
formula by a spreadsheet (``=HYPERLINK(...)``, ``@SUM(...)``): it is written with a leading ``'``.
Numbers the gateway formats itself (Decimal, int) are written as numbers, so ``-12,50`` stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from gateway.render.text import clean

BOM = "\ufeff"
SEPARATOR = ";"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | Decimal | date | datetime | bool | None


def safe_text(text: str) -> str:
    """Text from data, defused: prefixed with ``'`` when a spreadsheet would take it for a formula."""
    text = clean(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def cell(value: Value) -> str:
    """One value as a cell: decimals with a comma (French Excel reads them as numbers), ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(value)


def render_csv(header: Sequence[str], rows: Iterable[Sequence[Value]]) -> bytes:
    """The whole CSV document as bytes: BOM, header row, one line per row, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_text(h) for h in header])
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"ligne CSV de {len(row)} valeurs pour {len(header)} colonnes")
        writer.writerow([cell(v) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")
