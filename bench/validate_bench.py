"""Throughput of reading declarations: safe parse + XSD validation + extraction into domain values.

Not a timed test: run ``.venv/bin/python bench/validate_bench.py`` and read the numbers. Prints, for XML
files of 10, 1,000 and 50,000 employees, the time of each stage and employees per second; then the CSV
reader on the same sizes, the offline rules, and the cost of explaining an invalid 50,000-employee file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway import formats
from gateway.formats import declaration, safexml, xsd
from gateway.rules.context import CheckContext

SIZES = (10, 1_000, 50_000)


def xml_file(n: int, *, broken_every: int = 0) -> bytes:
    """A declaration of ``n`` employees (a tenth new, a fifth with an event), with totals."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<declarations xmlns="urn:csm-gateway:declaration:1" software="bench" test="false">\n',
        '  <declaration employer="104512" period="2026-11">\n',
    ]
    gross_total = 0
    for i in range(n):
        gross = 2000 + i % 3000
        gross_total += gross
        bad = broken_every and i % broken_every == 0
        hours = "800.00" if bad else "151.67"
        if i % 10 == 9:
            out.append(
                f"    <employee><last-name>NOUVEAU</last-name><first-name>{_first_name(i)}</first-name>"
                f"<birth-date>1990-01-{1 + i % 28:02d}</birth-date>"
                f"<gross>{gross}.00</gross><hours>{hours}</hours>"
                f'<event type="hire" start="2026-11-{1 + i % 28:02d}"/></employee>\n'
            )
        elif i % 5 == 0:
            out.append(
                f'    <employee registration="{1000000 + i}"><gross>{gross}.00</gross><hours>{hours}</hours>'
                f'<event type="sickness" start="2026-11-03" end="2026-11-07"/></employee>\n'
            )
        else:
            out.append(
                f'    <employee registration="{1000000 + i}"><gross>{gross}.00</gross>'
                f"<hours>{hours}</hours></employee>\n"
            )
    hours_total = f"{151.67 * n:.2f}" if not broken_every else "0"
    out.append(f'    <totals employees="{n}" gross="{gross_total}.00" hours="{hours_total}"/>\n')
    out.append("  </declaration>\n</declarations>\n")
    return "".join(out).encode()


def _first_name(i: int) -> str:
    """A distinct first name per employee (letters only), so no two new employees look the same."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    suffix = ""
    while True:
        suffix += letters[i % 26]
        i //= 26
        if not i:
            return "Élise-" + suffix


def csv_file(n: int) -> bytes:
    rows = [
        "employer;period;registration;last_name;first_name;birth_date;director;gross;hours;event;event_start;event_end"
    ]
    for i in range(n):
        rows.append(f"104512;2026-11;{1000000 + i};;;;;{2000 + i % 3000},00;151,67;;;")
    return ("\n".join(rows) + "\n").encode()


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    xsd.schema("declaration")  # compile once, outside the timings (the gateway does it at start)
    limits = formats.Limits(max_file_bytes=1 << 30, max_csv_rows=1_000_000)
    print(f"{'employees':>10} {'MB':>6} {'parse':>8} {'xsd':>8} {'extract':>8} {'total':>8} {'empl/s':>10}")
    for n in SIZES:
        data = xml_file(n)
        t_parse, parsed = timed(lambda data=data: safexml.parse(data))
        root = parsed.root
        t_xsd, ok = timed(lambda root=root: xsd.is_valid("declaration", root))
        assert ok, "benchmark file must be valid"
        t_extract, value = timed(lambda root=root: declaration.extract(root))
        assert len(value.declarations[0].lines) == n
        total = t_parse + t_xsd + t_extract
        print(
            f"{n:>10} {len(data) / 1e6:>6.1f} {t_parse * 1e3:>7.1f}ms {t_xsd * 1e3:>7.1f}ms "
            f"{t_extract * 1e3:>7.1f}ms {total * 1e3:>7.1f}ms {n / total:>10,.0f}"
        )
    print()
    print("end to end, formats.read (XML and CSV) and the offline rules:")
    ctx = CheckContext(today=date(2026, 11, 25))
    for n in SIZES:
        for label, data, name in (("xml", xml_file(n), "f.xml"), ("csv", csv_file(n), "f.csv")):
            t_read, result = timed(lambda data=data, name=name: formats.read(data, name, limits))
            assert result.ok, result.findings[:3]
            t_rules, verdicts = timed(lambda result=result: formats.check(result, ctx))
            assert all(v.accepted for v in verdicts), verdicts[0].findings[:3]
            print(
                f"{n:>10} {label}: read {t_read * 1e3:8.1f}ms ({n / t_read:>9,.0f}/s)   "
                f"rules {t_rules * 1e3:7.1f}ms"
            )
    print()
    broken = xml_file(50_000, broken_every=500)
    t_bad, result = timed(lambda: formats.read(broken, "bad.xml", limits), repeat=1)
    print(
        f"invalid 50,000-employee file (100 bad values): refused in {t_bad:.2f}s, "
        f"{len(result.findings)} findings kept of {result.total_findings}"
    )


if __name__ == "__main__":
    main()
