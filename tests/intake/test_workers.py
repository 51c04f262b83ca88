"""A hostile or buggy file can only take its worker down: memory, CPU and wall-clock limits hold, and the
pool comes back for the next file."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from gateway.clock import Clock
from gateway.errors import TechnicalError
from gateway.pipeline import Pipeline
from gateway.store.models import ReceivedFile
from gateway.workers import Limits, WorkerPool
from tests.intake import workload
from tests.intake.helpers import MONACO, NOW, ack_of, decl, declaration_xml, drop, outbox_files


@pytest.fixture
def pool():  # type: ignore[no-untyped-def]
    p = WorkerPool(1, Limits(memory_mb=400, cpu_seconds=2, wall_seconds=4))
    yield p
    p.close()


def test_memory_limit(pool) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TechnicalError, match="mémoire"):
        pool.run(workload.eat_memory, 2000)
    assert pool.run(workload.echo, "still here") == "still here"


def test_wall_clock_limit(pool) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TechnicalError, match="interrompu"):
        pool.run(workload.sleep, 30)
    assert pool.run(workload.echo, "next file") == "next file"


def test_cpu_limit(pool) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TechnicalError):
        pool.run(workload.spin, 10)
    assert pool.run(workload.echo, "next file") == "next file"


def test_workers_outlive_the_thread_that_first_used_them(pool) -> None:  # type: ignore[no-untyped-def]
    # the intake's lanes are threads that end with each batch; the daemon's next batch needs the workers
    lane = threading.Thread(target=pool.run, args=(workload.echo, "first batch"))
    lane.start()
    lane.join()
    time.sleep(0.5)  # time for a parent-death signal to land
    assert pool.run(workload.echo, "next batch") == "next batch"


def test_a_file_that_kills_its_worker_is_parked_and_the_batch_goes_on(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    """The whole intake on real worker processes: a file over its CPU limit kills its worker (and breaks the
    pool under the other file); it is tried once more, then parked with a technical-error acknowledgement,
    while the other file, resumed on a new worker, is accepted."""
    many = "".join(f'<employee registration="{3_000_000 + i}"><gross>2000.00</gross><hours>169.00</hours></employee>'
                   for i in range(200_000))  # seconds of CPU for the parse and rules alone
    drop(config, "100001", "huge.xml", declaration_xml(decl(lines=many)))
    drop(config, "100001", "small.xml", declaration_xml(decl("104513")))
    p = Pipeline(config, demo_store, clock=Clock(MONACO, NOW),  # type: ignore[arg-type]
                 pool=WorkerPool(2, Limits(memory_mb=1024, cpu_seconds=1, wall_seconds=120)))
    try:
        summary = p.run_once()
    finally:
        p.close()
    assert summary.outcomes == {"failed": 1, "accepted": 1}
    files = outbox_files(config)
    failed = ack_of({k: v for k, v in files.items() if "huge.xml" in k})
    assert failed.get("status") == "failed"
    assert [f.get("code") for f in failed.iter("{*}finding")] == ["TECHNICAL_ERROR"]
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        error = s.scalar(select(ReceivedFile.error).where(ReceivedFile.original_name == "huge.xml"))
    assert error is not None and "WorkerLost" in error, error
