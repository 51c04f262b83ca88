"""A hostile or buggy file can only take its worker down: memory, CPU and wall-clock limits hold, and the
pool comes back for the next file."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.errors import TechnicalError
from gateway.workers import Limits, WorkerPool
from tests.intake import workload


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
