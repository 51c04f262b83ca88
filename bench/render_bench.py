"""CPU per document in one process: acknowledgement XML, acknowledgement, declaration and payslip PDFs.

    .venv/bin/python bench/render_bench.py [--seconds 3] [--only NAME] [--fresh-texts]

Volume to keep in mind: about 6 500 declaration files a month (an acknowledgement and a declaration PDF
each, most declaring one to five employees) and about 60 000 payslips, rendered by one worker per core.
Uses the sample values of the render tests. The floor is what the benchmark of a month compares with: a
one-page canvas PDF in Helvetica with a few lines of text. The same sample is drawn again and again, so
its strings are found in the per-process text caches of gateway.render.sheets: ``--fresh-texts`` empties them
before every document, the case of a file whose names, amounts and notes were never seen before (a real
file is in between: headings, labels and the month's rates recur, names and amounts do not).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "render")]

import render_samples as samples
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from gateway.render import fonts, ops, wrap
from gateway.render.ack_pdf import render_ack_pdf
from gateway.render.ack_xml import check_ack_xml, render_ack_xml
from gateway.render.declaration_pdf import render_declaration_pdf
from gateway.render.payslip_pdf import render_payslip_pdf
from gateway.render.payslip_xml import check_payslip_xml, render_payslip_xml


def forget_texts() -> None:
    """Empty the per-process caches of gateway.render.fonts and .sheets (texts encoded and wrapped, numbers written): every
    text then looks new, as the names and amounts of a real file do (the font subsets stay: every document
    shares them)."""
    for cache in (ops._SHOWN, wrap._WRAPPED, wrap._WRAPPED_RUNS, ops._NUMBERS):
        cache.clear()


def rate(name: str, render: Callable[[int], bytes], seconds: float, fresh: bool = False) -> None:
    """Renders for ``seconds`` of wall time; the CPU time per document is the figure to trust on a shared
    machine. ``fresh``: no text seen before (the worst case of the per-process text caches)."""
    render(0)  # warm-up: font faces parsed, schema compiled
    count, size = 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds or count < 3:
        if fresh:
            forget_texts()
        size += len(render(count))
        count += 1
    cpu = time.process_time() - cpu_start
    print(
        f"{name:<42} {1000 * cpu / count:8.2f} ms/doc CPU {count / elapsed:8.1f} /s wall"
        f"   ({count} in {elapsed:.1f} s, {size // count:,} bytes each)",
        flush=True,
    )


def floor(i: int) -> bytes:
    """The month benchmark's floor: one page, a few strings in Helvetica, on a bare canvas."""
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 10)
    for n, line in enumerate(("Accusé de réception", f"ACK-{i}", "Accepté", "declaration.xml", "3 salariés")):
        c.drawString(50, 800 - 14 * n, line)
    c.showPage()
    c.save()
    return buffer.getvalue()


def declaration(decl: samples.Declaration, names: dict[int, tuple[str, str]], registrations: dict[int, str],
                reference: str) -> bytes:
    return render_declaration_pdf(
        decl, reference=reference, employer_name=samples.HOSTILE,
        employer_address="12 avenue des Spélugues, 98000 Monaco",
        received_at=datetime(2026, 12, 11, 9, 15, tzinfo=samples.MONACO), names=names,
        registrations=registrations, funds=samples.FUNDS, late=False, test=False,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent on each kind (default 3)")
    parser.add_argument("--only", default="", help="only the kinds whose name contains this text")
    parser.add_argument("--fresh-texts", action="store_true",
                        help="empty the per-process text caches before every document (no text seen before)")
    args = parser.parse_args()
    typical = samples.typical_ack()
    partly = samples.ack()
    small = samples.declaration()
    large, large_names = samples.large_declaration(300)
    payslip = samples.payslip()
    computed = samples.computed_payslip()
    print(f"rl_accel (C accelerator): {'yes' if fonts.ACCELERATED else 'NO — pure Python, expect slower'}")
    kinds: list[tuple[str, Callable[[int], bytes]]] = [
        ("floor: one-page canvas PDF, Helvetica", floor),
        ("acknowledgement XML + XSD check", lambda i: _xml(typical)),
        ("acknowledgement PDF, typical (accepted)", lambda i: render_ack_pdf(typical)),
        ("acknowledgement PDF, partly refused", lambda i: render_ack_pdf(partly)),
        ("declaration PDF, 5 employees", lambda i: declaration(small, samples.DECL_NAMES,
                                                               samples.DECL_REGISTRATIONS, f"DEC-{i}")),
        ("declaration PDF, 300 employees", lambda i: declaration(large, large_names, {}, f"DEC-{i}")),
        ("payslip PDF (one page)", lambda i: render_payslip_pdf(payslip, reference=f"PAY-{i}", test=False)),
        ("payslip XML + XSD check (computed)", lambda i: _payslip_xml(computed, f"PAY-{i}")),
    ]
    for name, render in kinds:
        if args.only in name:
            rate(name, render, args.seconds, args.fresh_texts)


def _payslip_xml(payslip: samples.Payslip, reference: str) -> bytes:
    data = render_payslip_xml(payslip, reference=reference, test=False)
    check_payslip_xml(data)
    return data


def _xml(ack: samples.Acknowledgement) -> bytes:
    data = render_ack_xml(ack)
    check_ack_xml(data)
    return data


if __name__ == "__main__":
    main()
