"""The intake's batch: claim the complete uploads of the inboxes, register them, and keep both cores busy on
them — lanes (threads of the intake process), each taking files no other lane holds and handing them to a
worker process, several per task when many wait. Faults of the infrastructure stop the lanes and end the
batch (the files keep their state); a worker lost is retried file by file, a file that takes its worker
down twice is refused. What happens to one file, stage by stage, is :class:`gateway.pipeline.Pipeline`'s.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Protocol

from gateway.clock import Clock
from gateway.config import Config
from gateway.crash import crash_point
from gateway.deliver import Delivery
from gateway.errors import TechnicalError
from gateway.faults import InfrastructureFault, Outage, as_fault
from gateway.files import atomic_write
from gateway.log import get_logger
from gateway.receive import Claimed, Releases, RunFolder, claim_many, orphans, read_claimed, scan
from gateway.store.intake import TERMINAL, Duplicate, IntakeStore
from gateway.store.repo import Store
from gateway.sweep import sweep_temporaries
from gateway.workers import InlinePool, SharedOrAlone, WorkerLost, WorkerPool

log = get_logger(__name__)
CLAIM_GROUP = 32  # uploads claimed and registered together (one fsync round, one transaction)
BATCH_FILES = 8  # files one worker task takes at most (one hop, one claim query for them all)
BATCH_BYTES = 1 << 20  # and at most this many bytes together (a big file goes alone)


@dataclass
class BatchSummary:
    run_id: str
    received: int = 0
    duplicates: int = 0
    processed: int = 0
    pending_before: int = 0  # files left unfinished by an earlier run, taken up by this one
    outcomes: dict[str, int] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    fault: InfrastructureFault | None = None  # the batch stopped on a fault of the infrastructure: files wait

    @property
    def busy(self) -> bool:
        return bool(self.received or self.duplicates or self.processed)


@dataclass(frozen=True)
class WorkerTasks:
    """The functions a worker process runs (module-level, so that they can be sent to it): one file, and
    several files in one task — (outcome, reference) of each finished, and what stopped the task."""

    one: Callable[[Config, Clock, int], tuple[str, str]]
    many: Callable[[Config, Clock, list[int]], tuple[list[tuple[str, str]], Exception | None]]


class Files(Protocol):
    """What the lanes need of the pipeline: one file brought to its end, here."""

    def process(self, file_id: int) -> tuple[str, str]: ...


class Lanes:
    """One intake process's batches: its lanes and what they share (the files in hand, the batch's fault)."""

    def __init__(self, config: Config, store: Store, intake: IntakeStore, clock: Clock,
                 pool: WorkerPool | InlinePool, releases: Releases, stop: threading.Event, delivery: Delivery,
                 outage: Outage, files: Files, tasks: WorkerTasks) -> None:
        self.config, self.store, self.intake, self.clock, self.pool = config, store, intake, clock, pool
        self.releases, self.stop, self.delivery, self.outage = releases, stop, delivery, outage
        self.process = files.process
        self.tasks = tasks
        self._recovered = False
        self._fault: InfrastructureFault | None = None  # the fault that stopped this batch's lanes
        self._lanes_alive = 0
        self._lanes_lock = threading.Lock()
        self._busy: set[int] = set()
        self._retry_alone = SharedOrAlone()
        self._scanning = threading.Event()  # set while run_once claims the inbox (lanes wait for its files)
        self._more = threading.Condition()  # notified when a file is registered or the scan ends

    def run_once(self, progress: Any = None) -> BatchSummary:
        """Take every complete upload, then work on every file not finished (ours or left by a crash).

        With worker processes the lanes start at once and work on the files while the inbox is still being
        claimed: a month dropped in one go keeps both cores busy from its first file."""
        summary = BatchSummary(run_id=self._run_id())
        self._fault = None
        try:
            self._run_batch(summary, progress)
        except Exception as exc:
            fault = as_fault(exc)
            if fault is None:
                self._recovered = False  # a bug stopped the batch: what it claimed is taken up by the next one
                raise
            self._fault = fault
        summary.references.sort()
        if self._fault is not None:
            # the files keep their recorded state; claimed uploads without a row yet are taken up again by
            # the next batch (orphans), which runs once the fault has cleared
            summary.fault = self._fault
            self._recovered = False
            self.outage.fault(self._fault)
        else:
            self.outage.ok()
        if summary.busy:
            try:
                self._manifest(summary)
            except OSError as exc:
                if as_fault(exc) is None:
                    raise
                log.warning("intake.manifest_not_written", run=summary.run_id, error=str(exc))
        return summary

    def _run_batch(self, summary: BatchSummary, progress: Any) -> None:
        if not self._recovered:
            self._recover_orphans(summary)
            self._recovered = True
        summary.pending_before = max(0, self.intake.pending_count() - summary.received)
        lanes = max(1, self.pool.size * 2 if self.pool.size > 1 else 1)
        self._lanes_alive = lanes
        if lanes == 1:
            self._claim_inbox(summary)
            self._drain(summary, progress)
        else:
            # One lane per worker task in flight: while a lane waits for its worker, another's file is queued.
            self._scanning.set()
            with ThreadPoolExecutor(lanes, thread_name_prefix="intake") as lanes_pool:
                futures = [lanes_pool.submit(self._drain, summary, progress) for _ in range(lanes)]
                try:
                    try:
                        self._claim_inbox(summary, follow=True)
                    finally:
                        with self._more:
                            self._scanning.clear()
                            self._more.notify_all()
                    for future in futures:
                        future.result()
                except BaseException as exc:
                    if isinstance(exc, Exception) and as_fault(exc) is not None:
                        self._fault = self._fault or as_fault(exc)  # the lanes see it and stop
                        for future in futures:
                            future.result()
                    else:
                        self.stop.set()  # Ctrl-C: the lanes finish the files in hand and take no other
                    raise

    def _claim_inbox(self, summary: BatchSummary, *, follow: bool = False) -> None:
        """Claim and register the complete uploads, a few dozen at a time: their sidecars synced together,
        their rows in one transaction; the lanes are woken after each group.

        With ``follow``, uploads the SFTP server releases while the lanes still work join this batch (the
        inbox is scanned again on each release) instead of waiting for the batch to end."""
        run = RunFolder(self.config.jobs_dir / summary.run_id)
        only: set[str] | None = None  # every folder first; then only those of the files released meanwhile
        try:
            while True:
                self.releases.event.clear()  # a release from now on is seen below
                uploads = scan(self.config.inbox, self.config.intake.settle_seconds, self.releases, only=only,
                               done_settle_seconds=self.config.intake.done_settle_seconds)
                while not self._halted() and (group := list(islice(uploads, CLAIM_GROUP))):
                    claimed = claim_many(group, run.incoming)
                    if claimed:
                        crash_point("claimed")
                        repeats: list[tuple[Duplicate, Claimed, int, datetime]] = []
                        with self.store.unit():
                            for one in claimed:
                                self._register(one, summary, repeats)
                        # after the commit: drawing a repeat's acknowledgement waits for a worker, and the
                        # workers wait for the writer lock this transaction held
                        for repeat in repeats:
                            self.delivery.duplicate(*repeat)
                    with self._more:
                        self._more.notify_all()
                if not follow or self._halted():
                    return
                while not self.releases.event.wait(0.05):
                    if self._lanes_idle():
                        return
                if self._halted():
                    return
                only = self.releases.subscribers()
        finally:
            run.release()

    def _halted(self) -> bool:
        """Stop taking work: asked to stop, or a fault of the infrastructure stopped the lanes."""
        return self.stop.is_set() or self._fault is not None

    def _lanes_idle(self) -> bool:
        with self._lanes_lock:
            if self._busy:
                return False
            if self._lanes_alive == 0 or self._fault is not None:
                return True  # no lane left to take a file (each stopped on a fault): the batch ends
        return self.intake.pending_count() == 0

    def _drain(self, summary: BatchSummary, progress: Any) -> None:
        """Work on files until none is left and the inbox is claimed; several lanes may drain at once.

        A fault of the infrastructure (database, disk) stops the lane: the file keeps its recorded state and
        the batch ends, to be tried again after a pause; the other lanes stop at their next file."""
        try:
            self._drain_files(summary, progress)
        except Exception as exc:
            fault = as_fault(exc)
            if fault is None:
                raise
            with self._lanes_lock:
                self._fault = self._fault or fault
        finally:
            with self._lanes_lock:
                self._lanes_alive -= 1
            with self._more:
                self._more.notify_all()

    def _drain_files(self, summary: BatchSummary, progress: Any) -> None:
        while not self._halted():
            with self._lanes_lock:  # pick files no other lane holds
                held = ExitStack()
                file_ids = held.enter_context(self.intake.claim_batch(
                    exclude=self._busy, limit=self._batch_size(), max_bytes=BATCH_BYTES))
                self._busy.update(file_ids)
            if not file_ids:
                held.close()
                with self._more:
                    if not self._scanning.is_set():
                        return
                    self._more.wait(0.2)  # the scanner is still claiming: wait for its next file
                continue
            error: Exception | None = None
            try:
                with held:  # the claims are released (and dropped once finished) before the lane lets go
                    results, error = self._process_many(file_ids)
            finally:
                with self._lanes_lock:
                    self._busy.difference_update(file_ids)
            with self._lanes_lock:
                for outcome, reference in results:
                    summary.processed += 1
                    summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
                    summary.references.append(reference)
                if progress is not None and results:
                    progress(summary.processed, max(summary.processed, summary.pending_before + summary.received))
            if error is not None:
                raise error

    def _batch_size(self) -> int:
        """How many files one worker task takes: several when many wait (one hop, one claim, for all of
        them), one when few do (no lane may sit idle while another holds a queue of files)."""
        if not isinstance(self.pool, WorkerPool):
            return 1
        lanes = max(1, self.pool.size * 2)
        return max(1, min(BATCH_FILES, (self.intake.pending_count() - len(self._busy)) // (2 * lanes)))

    def _process_many(self, file_ids: list[int]) -> tuple[list[tuple[str, str]], Exception | None]:
        """The files in one worker task (one after the other there); (outcome, reference) of each file
        finished, and the fault or bug that stopped the task, if any (the files after it keep their state).

        A task whose worker is lost (or runs past its limit) is not any one file's fault yet: each of its
        files is then taken again on its own, with the usual second try alone."""
        if len(file_ids) > 1 and isinstance(self.pool, WorkerPool):
            try:
                with self._retry_alone.shared():
                    return self.pool.run(self.tasks.many, self.config, self.clock, file_ids)
            except (WorkerLost, TechnicalError) as exc:
                log.warning("files.worker_lost", files=len(file_ids), error=str(exc), retry="one by one")
        results = []
        for file_id in file_ids:
            try:
                results.append(self._process_anywhere(file_id))
            except Exception as exc:  # noqa: BLE001 - handed back with the results of the files before it
                return results, exc
        return results, None

    def _process_anywhere(self, file_id: int) -> tuple[str, str]:
        """The whole file in a worker process when there are workers (both cores work on files: parsing,
        rules, records, documents), else here."""
        if not isinstance(self.pool, WorkerPool):
            return self.process(file_id)
        for attempt in (1, 2):
            # A second try runs with no other file in flight: if the pool breaks again, this file broke it,
            # and no innocent file in flight with it takes a second strike.
            turn = self._retry_alone.shared() if attempt == 1 else self._retry_alone.alone()
            try:
                with turn:
                    return self.pool.run(self.tasks.one, self.config, self.clock, file_id)
            except WorkerLost as exc:
                # A worker that dies breaks the whole pool: the files of the other workers end here too.
                # Each file resumes at its recorded state, once; a file that kills its worker twice is refused.
                if attempt == 1:
                    log.warning("file.worker_lost", file_id=file_id, retry=True)
                    continue
                error: Exception = exc
            except TechnicalError as exc:  # over its time limit (the worker was killed)
                error = exc
        row = self.intake.file(file_id)
        if row.state in TERMINAL:
            return row.outcome or row.state, row.reference
        log.error("file.over_limits", reference=row.reference, state=row.state, error=str(error))
        self.delivery.refuse_over_limits(row, error)
        row = self.intake.file(file_id)
        return row.outcome or row.state, row.reference

    def _run_id(self) -> str:
        return f"{self.clock.now():%Y%m%dT%H%M%S}-intake-{secrets.token_hex(3)}"

    def _register(self, claimed: Claimed, summary: BatchSummary,
                  repeats: list[tuple[Duplicate, Claimed, int, datetime]]) -> None:
        """The database row of a claimed file (``received``); a repeat of earlier bytes is put in ``repeats``,
        to be answered once the transaction has committed."""
        state = self.intake.subscriber_state(claimed.subscriber)
        if state is None:
            # an inbox folder of no known subscriber: keep the file aside, nobody to answer
            log.warning("intake.unknown_subscriber", subscriber=claimed.subscriber, name=claimed.name)
            return
        if claimed.sha256 is not None and claimed.size is not None:  # hashed while its bytes were stored
            size, sha = claimed.size, claimed.sha256
        else:  # a claim of an older version, found by the orphan recovery
            _data, size, sha = read_claimed(claimed.path, 0)
        received_at = datetime.fromtimestamp(claimed.claimed_at, self.config.tz) \
            if self.clock.fixed is None else self.clock.now()
        try:
            _file_id, reference = self.intake.insert_received(
                subscriber_id=state[0], subscriber=claimed.subscriber, name=claimed.name, size=size,
                sha256=sha, stored_path=str(claimed.path), run_id=summary.run_id, received_at=received_at)
        except Duplicate as dup:
            if self.intake.file(dup.file_id).stored_path == str(claimed.path):
                return  # this very file, registered meanwhile by another instance's orphan recovery
            repeats.append((dup, claimed, size, received_at))
            summary.duplicates += 1
            return
        summary.received += 1
        log.info("file.received", reference=reference, subscriber=claimed.subscriber, size=size,
                 name=claimed.name)
        crash_point("received")

    def _recover_orphans(self, summary: BatchSummary) -> None:
        """What a crash or a fault left: temporary files of unfinished writes, claimed uploads without a row."""
        sweep_temporaries(self.config, self.config.intake.temporaries_max_age_seconds, log)
        known = self.intake.known_paths()
        repeats: list[tuple[Duplicate, Claimed, int, datetime]] = []
        for claimed in orphans(self.config.jobs_dir, known):
            log.warning("intake.recovered_orphan", name=claimed.name, subscriber=claimed.subscriber)
            self._register(claimed, summary, repeats)
        for repeat in repeats:
            self.delivery.duplicate(*repeat)

    def _manifest(self, summary: BatchSummary) -> None:
        path = self.config.jobs_dir / summary.run_id / "manifest.json"
        doc = {"run": summary.run_id, "job": "intake", "received": summary.received,
               "duplicates": summary.duplicates, "processed": summary.processed,
               "outcomes": summary.outcomes, "references": summary.references,
               "finished_at": self.clock.now().isoformat()}
        atomic_write(path, json.dumps(doc, ensure_ascii=False, indent=2).encode())
