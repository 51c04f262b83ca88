"""A hostile or buggy file can only take its worker down: memory, CPU and wall-clock limits hold, and the
pool comes back for the next file."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from gateway.clock import Clock
from gateway.errors import TechnicalError
from gateway.pipeline import Pipeline, process_in_worker
from gateway.store.models import ReceivedFile
from gateway.workers import Limits, WorkerLost, WorkerPool
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


def test_a_file_that_kills_its_worker_is_refused_and_the_batch_goes_on(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    """The whole intake on real worker processes: a file over its CPU limit kills its worker (and breaks the
    pool under the other file); it is tried once more, alone, then refused with the code that says it is too
    costly (the file's own doing, not a technical failure), while the other file, resumed on a new worker,
    is accepted."""
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
    assert summary.outcomes == {"refused": 1, "accepted": 1}
    files = outbox_files(config)
    refused = ack_of({k: v for k, v in files.items() if "huge.xml" in k})
    assert refused.get("status") == "refused"
    assert [f.get("code") for f in refused.iter("{*}finding")] == ["FILE_RESOURCE_LIMIT"]
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        state, error = s.execute(select(ReceivedFile.state, ReceivedFile.error)
                                 .where(ReceivedFile.original_name == "huge.xml")).one()
    assert state == "refused" and error is not None and "WorkerLost" in error, error


def _run_naming(p: Pipeline, names: dict[int, str]):  # type: ignore[no-untyped-def]
    """One batch of ``p``, keeping in ``names`` the uploaded name of every file it registers."""
    original = p.intake.insert_received

    def remember(**kw):  # type: ignore[no-untyped-def]
        file_id, reference = original(**kw)
        names[file_id] = kw["name"]
        return file_id, reference

    p.intake.insert_received = remember  # type: ignore[method-assign]
    try:
        return p.run_once()
    finally:
        p.close()


def test_a_file_that_kills_its_worker_amid_batches_of_files(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    """Many files waiting: a worker task takes several. The task holding the file that kills its worker is
    lost whole; its files are then taken again one by one — the killer refused (twice lost), the others of
    its task and of every other task accepted, each once."""
    from gateway.pipeline import process_batch_in_worker

    periods = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)][:23]  # up to 2026-11
    for period in periods:
        drop(config, "100001", f"d-{period}.xml", declaration_xml(decl("104512", period)))
    drop(config, "100001", "bad.xml", declaration_xml(decl("104513")))
    names: dict[int, str] = {}
    tasks: list[tuple[int, bool]] = []  # (files in the task, lost)

    class Killer(WorkerPool):
        def run(self, func, *args):  # type: ignore[no-untyped-def]
            if func not in (process_batch_in_worker, process_in_worker):  # e.g. an acknowledgement drawn there
                return super().run(func, *args)
            ids = args[-1] if func is process_batch_in_worker else [args[-1]]
            doomed = "bad.xml" in {names[i] for i in ids}
            try:
                result = super().run(workload.die_after, 0.2) if doomed else super().run(func, *args)
            except TechnicalError:
                tasks.append((len(ids), True))
                raise
            tasks.append((len(ids), False))
            return result

    p = Pipeline(config, demo_store, clock=Clock(MONACO, NOW),  # type: ignore[arg-type]
                 pool=Killer(2, Limits(memory_mb=1024, cpu_seconds=60, wall_seconds=120)))
    summary = _run_naming(p, names)
    assert max(n for n, _lost in tasks) > 1, tasks  # files did go several to a task
    assert any(lost and n > 1 for n, lost in tasks), tasks  # and the task holding the killer was lost whole
    assert summary.outcomes == {"refused": 1, "accepted": len(periods)}, (summary.outcomes, tasks)
    assert summary.processed == len(periods) + 1 and len(set(summary.references)) == len(periods) + 1
    files = outbox_files(config)
    assert len([k for k in files if k.endswith(".ack.xml")]) == len(periods) + 1  # one each, none twice
    assert ack_of({k: v for k, v in files.items() if "bad.xml" in k}).get("status") == "refused"


def test_a_break_seen_by_two_lanes_rebuilds_the_pool_once() -> None:
    """Both tasks of a broken pool report the break; the second report must not stop the pool the first
    one has already started (a task on it would be lost for nothing)."""
    pool = WorkerPool(2, Limits(memory_mb=400, cpu_seconds=30, wall_seconds=30))
    try:
        dying = pool.submit(workload.die_after, 0.5)
        other = pool.submit(workload.sleep, 10)  # in flight on the other worker when the pool breaks
        with pytest.raises(WorkerLost):
            pool.result(dying)
        after = pool.submit(workload.sleep, 1)  # on the new pool
        with pytest.raises(WorkerLost):
            pool.result(other)
        assert pool.result(after) == "woke up"
    finally:
        pool.close()


class _OneFileKillsItsWorker(WorkerPool):
    """Real workers; the file named ``bad.xml`` kills its worker half a second in, every time, while
    ``good.xml`` is processed for real after 1.5 s: whenever both are in flight, the bad one breaks the pool
    under the good one."""

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__(2, Limits(memory_mb=1024, cpu_seconds=60, wall_seconds=120))
        self.names = names

    def run(self, func, *args):  # type: ignore[no-untyped-def]
        if func is not process_in_worker:  # e.g. the parked file's acknowledgement, drawn in a worker
            return super().run(func, *args)
        _config, _clock, file_id = args
        if self.names[file_id] == "bad.xml":
            return super().run(workload.die_after, 0.5)
        return super().run(workload.slow_then, 1.5, func, *args)


def test_an_innocent_file_in_flight_when_another_breaks_the_pool_twice_is_not_parked(  # type: ignore[no-untyped-def]
        config, demo_store) -> None:
    """The pool breaks under both files, and again when the bad file is tried once more: the good file's
    own second try runs with nothing else in flight, so it is accepted and only the bad file is refused."""
    drop(config, "100001", "bad.xml", declaration_xml(decl("104512")))
    drop(config, "100001", "good.xml", declaration_xml(decl("104513")))
    names: dict[int, str] = {}
    pool = _OneFileKillsItsWorker(names)
    p = Pipeline(config, demo_store, clock=Clock(MONACO, NOW), pool=pool)  # type: ignore[arg-type]
    summary = _run_naming(p, names)
    assert summary.outcomes == {"refused": 1, "accepted": 1}, summary.outcomes
    acks = outbox_files(config)
    assert ack_of({k: v for k, v in acks.items() if "good.xml" in k}).get("status") == "accepted"
    assert ack_of({k: v for k, v in acks.items() if "bad.xml" in k}).get("status") == "refused"
