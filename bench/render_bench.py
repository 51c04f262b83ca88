"""How many acknowledgement and payslip PDFs one process renders per second.

    .venv/bin/python bench/render_bench.py [--seconds 5]

Volume to keep in mind: about 60 000 payslips a month, rendered by one worker per core. Uses the sample
values of the render tests (a partly accepted two-declaration acknowledgement, a one-page payslip).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "render")]

import render_samples as samples

from gateway.render import pdf
from gateway.render.ack_pdf import render_ack_pdf
from gateway.render.ack_xml import check_ack_xml, render_ack_xml
from gateway.render.payslip_pdf import render_payslip_pdf


def rate(name: str, render: Callable[[int], bytes], seconds: float) -> None:
    """Renders for ``seconds`` of wall time; the CPU-time rate is the one to trust on a shared machine."""
    render(0)  # warm-up: font faces parsed, schema compiled
    count, size = 0, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        size += len(render(count))
        count += 1
    cpu = time.process_time() - cpu_start
    print(
        f"{name:<34} {count / elapsed:8.1f} /s wall  {count / cpu:8.1f} /s CPU"
        f"   ({count} in {elapsed:.1f} s, {size // count:,} bytes each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="time spent on each kind (default 5)")
    args = parser.parse_args()
    ack = samples.ack()
    payslip = samples.payslip()
    print(f"rl_accel (C accelerator): {'yes' if pdf.ACCELERATED else 'NO — pure Python, expect slower'}")
    rate("acknowledgement XML + XSD check", lambda i: _xml(ack), args.seconds)
    rate("acknowledgement PDF", lambda i: render_ack_pdf(ack), args.seconds)
    rate("payslip PDF (one page)", lambda i: render_payslip_pdf(payslip, reference=f"PAY-{i}", test=False),
         args.seconds)  # fmt: skip


def _xml(ack: samples.Acknowledgement) -> bytes:
    data = render_ack_xml(ack)
    check_ack_xml(data)
    return data


if __name__ == "__main__":
    main()
