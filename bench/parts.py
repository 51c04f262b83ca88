"""What the work every file needs costs, apart from the gateway's own machinery: a like-for-like reference.

    .venv/bin/python bench/parts.py          # 600 declaration files of the benchmark's month, one process
    .venv/bin/python bench/parts.py 2000

The issue's floor (bench/run.py) draws one one-page Helvetica PDF per file and inserts the lines in one
table. A file also needs, whatever the gateway around it: its acknowledgement PDF and declaration PDF
(French, with an embedded font for names in any Latin script), its contributions computed, and its XML
acknowledgement built and checked against the schema. This script runs the real pipeline in one process
over a batch of the benchmark's files, keeps the arguments each of those four functions was called with,
then calls each again on the same arguments and prints its CPU per file, next to the issue's floor for
the same files (lxml parse + XSD, SQLAlchemy Core inserts, one Helvetica page). Their sum is the least
any gateway producing these documents spends per file; the rest of the gateway's time per file
(`intake --once` in bench/run.py) is its own overhead: transactions, states, durable writes, processes.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as month

import gateway.deliver as deliver_mod
import gateway.pipeline as pipeline_mod
from gateway import config as config_mod
from gateway.clock import Clock
from gateway.render.ack_xml import check_ack_xml, render_ack_xml
from gateway.store.repo import Store
from gateway.workers import InlinePool

Calls = list[tuple[tuple[Any, ...], dict[str, Any]]]


def _kept(module: Any, name: str, calls: Calls) -> Callable[..., Any]:
    """The function ``name`` as ``module`` calls it, keeping the arguments of every call."""
    real = getattr(module, name)

    def keep(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    setattr(module, name, keep)
    return real


def _ack_xml(ack: Any) -> None:
    check_ack_xml(render_ack_xml(ack))


def per_file(fn: Callable[..., Any], calls: Calls, files: int) -> float:
    """CPU milliseconds per file of ``fn`` called again on every kept call (after a warm-up)."""
    for args, kwargs in calls[:30]:
        fn(*args, **kwargs)
    start = time.process_time()
    for args, kwargs in calls:
        fn(*args, **kwargs)
    return (time.process_time() - start) / files * 1000


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    rng = random.Random(20261105)
    home = Path(tempfile.mkdtemp(prefix="gateway-parts-"))
    try:
        plan = month.setup(home, max(1, count // 20), count, count * 60000 // 6500, rng)
        files = [(s, f"decl-{e}.xml", month.declaration(e, regs, rng)) for s, e, regs in plan]
        month.drop_all(home, files)
        config = config_mod.load(home / "gateway.toml")
        store = Store.connect(config)
        kept: dict[str, Calls] = {"ack": [], "declaration": [], "contributions": []}
        real = {"ack": _kept(deliver_mod, "render_ack_pdf", kept["ack"]),
                "declaration": _kept(deliver_mod, "render_declaration_pdf", kept["declaration"]),
                "contributions": _kept(pipeline_mod, "compute_declaration", kept["contributions"])}
        clock = Clock(ZoneInfo("Europe/Monaco"), datetime.fromisoformat(month.NOW))
        start = time.process_time()
        pipeline_mod.Pipeline(config, store, clock=clock, pool=InlinePool()).run_once()
        whole = (time.process_time() - start) / len(files) * 1000
        store.close()
        parts = {
            "acknowledgement PDF": per_file(real["ack"], kept["ack"], len(files)),
            "declaration PDF": per_file(real["declaration"], kept["declaration"], len(files)),
            "contributions computed": per_file(real["contributions"], kept["contributions"], len(files)),
            "acknowledgement XML + XSD check": per_file(_ack_xml, kept["ack"], len(files)),
        }
        floor = month.floor(files, 0)
        print(f"{len(files)} declaration files, {sum(len(r) for _s, _e, r in plan)} employees, one process")
        for name, ms in parts.items():
            print(f"  {name:34s} {ms:6.2f} ms per file")
        needed = sum(parts.values())
        floor_ms = floor["total"] / len(files) * 1000
        print(f"  {'the four together':34s} {needed:6.2f} ms per file")
        print(f"  {'issue floor (parse, inserts, page)':34s} {floor_ms:6.2f} ms per file "
              f"(inserts {floor['db'] / len(files) * 1000:.2f}, page {floor['pdf'] / len(files) * 1000:.2f})")
        like = needed + (floor["parse"] + floor["db"]) / len(files) * 1000
        print(f"  like-for-like floor (the four + parse and inserts) {like:.2f} ms = {like / floor_ms:.1f}× the issue's")
        print(f"  whole pipeline, one process, this batch (CPU, with start-up) {whole:.2f} ms per file")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
