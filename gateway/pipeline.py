"""The intake, stage by stage: the ONE place that says in which order things happen to an upload.

    receive   inbox → jobs/<run>/incoming (rename, stored copy) + a ``received`` row  (receive.py; a few
              dozen uploads at a time: their sidecars synced together, their rows in one transaction)
    validate  identify, parse, XSD → rules → verdict (judge.py)                  → ``validated``
    record    each accepted declaration (a savepoint each)                        → ``recorded``
    compute   contributions of each recorded declaration, stored                  → ``computed``
    deliver   declaration PDFs, payslips, acknowledgement XML + PDF (deliver.py) → ``delivered``/``refused``

With worker processes (the default), the intake process only claims and registers uploads (the lanes of
:mod:`gateway.lanes`); files then go whole through a worker (:func:`process_batch_in_worker`, its own
database connection), so both cores work on files. When many wait, a worker task takes several (one hop and
one claim for them all; one when few wait, so that no lane idles while another holds a queue). Per file,
one write transaction where validate, record and compute commit together (the steps run in order, their
states written once as ``computed``; a file left at an earlier state by an older version or a failure
resumes there); then, for the task's files together (group commit), their documents made durable in one
sync round and every document's row and final state in one transaction. The reads before each (the rules'
snapshot, what the documents show) hold no lock. A task whose worker is lost is no one file's fault yet:
its files are taken again one by one.

Every step reads what the previous one recorded, does its side effects, then records its own state: after a
crash (kill -9 anywhere) the next run resumes at the recorded state and produces the same bytes.

Two kinds of failure, handled apart (``faults.py``). A fault of the infrastructure — the database lost or
busy, the disk full or failing — is never the file's: its transaction rolls back, the file keeps its
recorded state, the batch stops and the daemon tries again after a growing pause, degraded meanwhile (said
once per outage). What the file itself causes — a worker that dies twice on it, a time limit — refuses it
with ``FILE_RESOURCE_LIMIT``. A bug parks it as ``failed`` (original kept in jobs/, traceback logged, an
acknowledgement with the reference to quote) only when nothing of it was recorded; a file whose records were
committed is held at its state instead (``gateway failed list|retry``). No lock or transaction is held while
a document is drawn or a worker is awaited.
"""

from __future__ import annotations

import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from gateway import crash, formats, outbox
from gateway.clock import Clock, system_clock
from gateway.codes import finding
from gateway.config import Config
from gateway.crash import crash_point
from gateway.deliver import Delivery, Pending, decl_ref
from gateway.domain import (
    Declaration,
    DeclarationFile,
    FileKind,
    Location,
    Payslip,
    PayslipFile,
    PayslipRequest,
    ReadResult,
)
from gateway.errors import GatewayError
from gateway.faults import InfrastructureFault, Outage, as_fault
from gateway.judge import Judge
from gateway.lanes import BatchSummary, Lanes, WorkerTasks
from gateway.log import get_logger
from gateway.receive import Releases, read_claimed
from gateway.rules.context import CheckContext
from gateway.rules.contributions import compute_declaration
from gateway.rules.employment import employment_from_events
from gateway.rules.payslip import compute_payslip
from gateway.rules.rates import RateBook
from gateway.store.intake import TERMINAL, FileRow, IntakeStore
from gateway.store.repo import Store
from gateway.tasks import read_upload
from gateway.verdicts import FileVerdict
from gateway.verification import FILE_NAME as VERIFICATION_FILE
from gateway.verification import MAX_BYTES as VERIFICATION_MAX_BYTES
from gateway.verification import verify_upload
from gateway.workers import InlinePool, Limits, WorkerPool

log = get_logger(__name__)


class Pipeline:
    """Everything one intake process needs, built once: store, rates, workers, clock, outbox layout."""

    def __init__(self, config: Config, store: Store, *, clock: Clock | None = None,
                 pool: WorkerPool | InlinePool | None = None, releases: Releases | None = None,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self.store = store
        self.intake = IntakeStore(store)
        self.clock = clock or system_clock(config.tz)
        self.pool = pool or WorkerPool(config.intake.workers, Limits(
            config.intake.worker_memory_mb, config.intake.worker_cpu_seconds, config.intake.file_timeout_seconds))
        self.releases = releases or Releases()
        # set by the daemon on SIGTERM: the files in hand are finished, no other is taken (they wait, claimed
        # or still in the inbox, for the next start)
        self.stop = stop or threading.Event()
        self.book = RateBook.from_config(config)
        self.judge = Judge(store, self.intake, self.book, self._contributions, self._payslip)
        self.limits = formats.Limits.from_config(config.intake)
        self.layout = outbox.Layout(config.outbox)
        self.outage = Outage(config.intake.fault_pause_max_seconds)  # ready, or degraded since a fault
        self._parsed: dict[int, ReadResult] = {}
        # What one lane learns while it processes one file (employers, contributions, documents written),
        # kept for that processing only: each step used to ask the database or recompute it again.
        self._local = threading.local()
        self.delivery = Delivery(config, store, self.intake, self.pool, self.clock, self._local,
                                 employer_info=self._employer_info, contributions=self._contributions,
                                 payslip=self._payslip, value=self._value)
        self.lanes = Lanes(config, store, self.intake, self.clock, self.pool, self.releases, self.stop,
                           self.delivery, self.outage, self, WorkerTasks(process_in_worker, process_batch_in_worker))

    def close(self) -> None:
        self.pool.close()

    # The batch ---------------------------------------------------------------------------------------
    def run_once(self, progress: Any = None) -> BatchSummary:
        """Take every complete upload, then work on every file not finished (:class:`gateway.lanes.Lanes`)."""
        return self.lanes.run_once(progress)

    # One file --------------------------------------------------------------------------------------
    def process(self, file_id: int) -> tuple[str, str]:
        """Bring one file from its recorded state to the end; returns (outcome, reference).

        Two write transactions per file: the verdict, the records and the contributions commit together
        (``validated`` → ``recorded`` → ``computed``, the steps in order, their states in one UPDATE), then the
        documents with the final state. The reading and judging before the first, and the drawing and
        writing of the documents before the second, hold no lock: the other lanes and processes write
        meanwhile.
        """
        row = self.intake.file(file_id)
        self._local.memo = {}
        self._local.documents = []
        self._local.drawings = []
        self._local.batch = outbox.Batch(self.layout)
        fault: InfrastructureFault | None = None
        try:
            verdict = None
            if row.state == "received":
                with self.store.unit(read=True):  # the records the rules look at, from one snapshot
                    verdict = self._judged(row)
            with self.store.unit():  # a crash anywhere in here leaves the file ``received``: judged again
                if row.state in ("received", "validated", "recorded") and not self.intake.take(row.id, row.state):
                    # another instance moved the file on meanwhile (its claim was taken over after a cut
                    # connection): what it recorded stands
                    log.info("file.taken_elsewhere", reference=row.reference, state=row.state)
                    row = self.intake.file(file_id)
                    return row.outcome or row.state, row.reference
                states: dict[str, Any] = {}
                self._local.states = states  # the steps' states, written once, as the last of them
                try:
                    if row.state == "received":
                        row = self._after("received", self._validate(row, verdict))
                    if row.state == "validated":
                        row = self._after("validated", self._record(row))
                    if row.state == "recorded":
                        row = self._after("recorded", self._compute(row))
                finally:
                    self._local.states = None
                if states:
                    self.intake.set_state(row.id, **states)
            if row.state == "computed":
                row = self._after("computed", self.delivery.deliver(row))
        except Exception as exc:
            fault = as_fault(exc)
            if fault is None:
                log.exception("file.bug", reference=row.reference, state=row.state, error=type(exc).__name__)
                try:
                    self.delivery.park(row, exc)
                    row = self.intake.file(file_id)
                    if row.state not in TERMINAL:
                        return "held", row.reference
                except Exception as again:
                    fault = as_fault(again)
                    if fault is None:
                        raise
        finally:
            self._parsed.pop(file_id, None)
            self._local.batch.discard()  # temporary files of a delivery that failed half-way
            self._local.memo = None
            self._local.documents = None
            self._local.drawings = None
            self._local.batch = None
        if fault is not None:
            # Not the file's fault: it keeps its recorded state (what was not committed was rolled back) and
            # is taken again once the database or the disk is back.
            log.debug("file.waits", reference=row.reference, state=row.state, reason=fault.reason)
            raise fault
        return row.outcome or row.state, row.reference

    def process_group(self, file_ids: list[int]) -> tuple[list[tuple[str, str]], Exception | None]:
        """Several files one after the other (a worker's task), their deliveries finished together: the
        documents of all of them made durable in one sync round, then all their rows in one transaction
        (group commit; :meth:`Delivery.finish_group`). Returns (outcome, reference) of each file finished,
        and the fault or bug that stopped the group, if any: the files before it are still finished; a fault
        while finishing leaves the group's delivered files at ``computed``, to be delivered again later."""
        group: list[Pending] = []
        results: dict[int, tuple[str, str]] = {}
        error: Exception | None = None
        self._local.group = group
        try:
            for file_id in file_ids:
                try:
                    results[file_id] = self.process(file_id)
                except Exception as exc:  # noqa: BLE001 - handed back with the results of the files before it
                    error = exc
                    break
        finally:
            self._local.group = None
        try:
            done = self.delivery.finish_group(group)
        except Exception as exc:
            if as_fault(exc) is None:
                raise
            for p in group:  # not delivered: they wait at ``computed``
                results.pop(p.row.id, None)
            return [results[i] for i in file_ids if i in results], error or as_fault(exc)
        for p in group:
            if p.row.id not in done:  # another instance delivered it meanwhile: its outcome stands
                row = self.intake.file(p.row.id)
                results[p.row.id] = (row.outcome or row.state, row.reference)
        return [results[i] for i in file_ids if i in results], error

    def _after(self, step: str, row: FileRow) -> FileRow:
        crash_point(f"after-{step}")
        return row

    def _set(self, row: FileRow, state: str, **values: Any) -> FileRow:
        """Record the file's new state (and values); the row as it now is, without reading it back. Inside
        the first write transaction of ``process`` the states of its steps are merged and written once at its
        end: what is committed is the same, in one UPDATE instead of three."""
        pending = getattr(self._local, "states", None)
        if pending is None:
            self.intake.set_state(row.id, state, **values)
        else:
            pending.update(values, state=state)
        return replace(row, state=state, **{k: v for k, v in values.items() if k in _ROW_FIELDS})

    # validate ------------------------------------------------------------------------------------------
    def _read(self, row: FileRow) -> ReadResult:
        """The file's value, parsed once per processing (parsing is deterministic: after a crash the same
        bytes give the same value)."""
        result = self._parsed.get(row.id)
        if result is None:
            result = self._parsed[row.id] = self.pool.run(read_upload, row.stored_path, row.original_name,
                                                          self.limits)
        return result

    def _judged(self, row: FileRow) -> tuple[FileVerdict, str | None, bool] | None:
        """Parse and judge a ``received`` file (reads only); None for an e-mail verification upload."""
        if row.original_name.lower() == VERIFICATION_FILE:
            return None
        result = self._read(row)
        today = row.received_at.astimezone(self.config.tz).date()
        context = CheckContext.from_config(self.config, today, subscriber=row.subscriber)
        verdict = self.judge.file(row, result, context)
        test = bool(result.value is not None and result.value.test)
        return verdict, (result.kind.value if result.kind else None), test

    def _validate(self, row: FileRow, judged: tuple[FileVerdict, str | None, bool] | None) -> FileRow:
        if judged is None:
            return self._verify_email(row)
        verdict, kind, test = judged
        new = self._set(
            row, "validated", kind=kind, test=test,
            findings=verdict.to_json(), total_findings=verdict.total_findings + sum(i.total_findings for i in verdict.items),
            processed_at=self.clock.now(), outcome=verdict.outcome.value,
        )
        log.info("file.validated", reference=row.reference, outcome=verdict.outcome.value,
                 items=len(verdict.items))
        return new

    def _verify_email(self, row: FileRow) -> FileRow:
        """``email-verification.txt``: the code sent by e-mail proves the subscriber's address."""
        data, _size, _sha = read_claimed(Path(row.stored_path), VERIFICATION_MAX_BYTES)
        ok, message = verify_upload(self.store, row.subscriber, data or b"", self.clock.now()) \
            if data is not None else (False, "Fichier trop volumineux pour un code de validation.")
        if ok:
            verdict = FileVerdict(notes=(message,), verified_email=True)
        else:
            verdict = FileVerdict(findings=(finding("SUBSCRIBER_EMAIL_CODE_REJECTED", message, Location(line=1),
                                                    "le code reçu par e-mail"),), total_findings=1)
        return self._set(row, "validated", findings=verdict.to_json(), total_findings=verdict.total_findings,
                         processed_at=self.clock.now(), outcome=verdict.outcome.value)

    def _memo(self) -> dict[tuple[str, Any], Any] | None:
        """The memo of the file this lane is processing (None outside ``process``)."""
        return getattr(self._local, "memo", None)

    def _employer_info(self, number: str) -> dict[str, Any] | None:
        memo = self._memo()
        if memo is None:
            return self.intake.employer_info(number)
        if ("employer", number) not in memo:
            memo[("employer", number)] = self.intake.employer_info(number)
        return memo[("employer", number)]  # type: ignore[no-any-return]

    def _contributions(self, decl: Declaration) -> Any:
        """Contributions of a declaration: pure given the rates and the employer, so computed once per
        processing (validation, computation and delivery each needed them)."""
        memo = self._memo()
        key = ("contributions", decl.index)
        if memo is not None and key in memo:
            return memo[key]
        info = self._employer_info(decl.employer) or {"building_trade": False, "household": False}
        spans = {i: employment_from_events(line, decl.period) for i, line in enumerate(decl.lines, 1)}
        result = compute_declaration(decl, self.book, building_trade=info["building_trade"],
                                     household=info["household"], employments=spans,
                                     stale_after_days=self.config.rates.stale_after_days)
        if memo is not None:
            memo[key] = result
        return result

    # record ----------------------------------------------------------------------------------------------
    def _record(self, row: FileRow) -> FileRow:
        verdict = FileVerdict.from_json(row.findings)
        accepted = [i for i in verdict.items if i.accepted]
        if row.test or row.kind != FileKind.DECLARATION.value or not accepted:
            return self._set(row, "recorded")
        value = self._value(row)
        assert isinstance(value, DeclarationFile)
        by_index = {d.index: d for d in value.declarations}
        now = self.clock.now()
        recorded: dict[int, int] = {}  # position → declaration id, for the computation that follows
        memo = self._memo()
        if memo is not None:
            memo[("recorded", row.id)] = recorded
        for n, item in enumerate(accepted):
            info = self._employer_info(item.employer)
            decl_id = self.intake.record_declaration(
                file_id=row.id, reference=decl_ref(row.reference, item.index), decl=by_index[item.index],
                late=item.late, received_at=row.received_at, recorded_at=now,
                employer_id=info["id"] if info else None)
            if decl_id is not None:
                recorded[item.index] = decl_id
            else:
                verdict = verdict.refuse_item(item.index, finding(
                    "DECL_PERIOD_ALREADY_DECLARED",
                    f"La période {item.period} a été déclarée entre-temps par un autre envoi.",
                    by_index[item.index].location, "une période non encore déclarée"))
            if n == 0:
                crash_point("record-partial")
        return self._set(row, "recorded", findings=verdict.to_json(), outcome=verdict.outcome.value)

    def _value(self, row: FileRow) -> DeclarationFile | PayslipFile:
        """The file's value again (parsing is deterministic: the same bytes give the same value)."""
        result = self._read(row)
        if result.value is None:
            raise GatewayError("le fichier validé ne se relit plus")
        return result.value

    # compute ---------------------------------------------------------------------------------------------
    def _compute(self, row: FileRow) -> FileRow:
        recorded = (self._memo() or {}).get(("recorded", row.id))
        if recorded is None:  # resumed at ``recorded``: the declarations not yet computed, from the database
            recorded = {d.position: d.id for d in self.intake.declarations_of(row.id) if d.computed_at is None}
        if recorded:
            value = self._value(row)
            assert isinstance(value, DeclarationFile)
            by_index = {d.index: d for d in value.declarations}
            for position, declaration_id in sorted(recorded.items()):
                result = self._contributions(by_index[position])
                self.intake.save_contributions(declaration_id, result, self.clock.now())  # once: checked there
        return self._set(row, "computed")

    # deliver ---------------------------------------------------------------------------------------------
    def _payslip(self, request: PayslipRequest) -> Payslip:
        """The payslip of an accepted request: pure given the records, so computed once per processing
        (validation and delivery each needed it)."""
        memo = self._memo()
        key = ("payslip", request.index)
        if memo is not None and key in memo:
            return memo[key]  # type: ignore[no-any-return]
        info = self._employer_info(request.employer)
        person = self.intake.employee_for_payslip(request.employer, request.registration, request.period,
                                                  employer_id=info["id"] if info else None)
        assert info is not None and person is not None, "checked by the rules"
        payslip = compute_payslip(
            request, self.book, employer_name=info["name"], employer_address=info["address"],
            employee_name=person.name, building_trade=info["building_trade"], household=info["household"],
            employment=person.span, unemployment_insurance=person.unemployment_insurance,
            stale_after_days=self.config.rates.stale_after_days)
        if memo is not None:
            memo[key] = payslip
        return payslip

_ROW_FIELDS = {f.name for f in fields(FileRow)}


_worker: Pipeline | None = None  # in a worker process: the pipeline its files go through


def _in_worker(config: Config, clock: Clock) -> Pipeline:
    """The worker process's own pipeline (its database connection), made on its first task or after a reload."""
    global _worker
    if _worker is None or _worker.config != config or _worker.clock != clock:  # first file, or reloaded
        from gateway import log as log_setup

        if _worker is not None:
            _worker.store.close()
            _worker = None
        log_setup.setup(config.logging.level, config.logging.json)
        try:
            _worker = Pipeline(config, Store.connect(config), clock=clock, pool=InlinePool())
            crash.in_worker = True
        except Exception as exc:
            fault = as_fault(exc)  # the database not reachable from the worker: the file waits
            if fault is None:
                raise
            raise fault from None
    return _worker


def process_in_worker(config: Config, clock: Clock, file_id: int) -> tuple[str, str]:
    """A worker process's task: one whole file (its own database connection, everything drawn here)."""
    results, error = _in_worker(config, clock).process_group([file_id])
    if error is not None:
        raise error
    return results[0]


def process_batch_in_worker(config: Config, clock: Clock, file_ids: list[int]
                            ) -> tuple[list[tuple[str, str]], Exception | None]:
    """A worker's task of several files, one after the other, their documents and rows committed together;
    stops at the first fault or bug (returned with the results of the files finished before it)."""
    return _in_worker(config, clock).process_group(file_ids)


def wait_for_work(releases: Releases, seconds: float) -> None:
    """Sleep until an SFTP upload releases a file or ``seconds`` pass."""
    releases.event.wait(seconds)
    releases.event.clear()


