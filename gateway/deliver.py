"""Deliver: a judged and recorded file's documents — declaration PDFs, payslips (PDF and XML), then the
acknowledgement (XML and PDF) — drawn once the reads they need are over, made durable together, and only then
recorded with the file's final state in one transaction. Also the answers to files that end otherwise: a repeat
of earlier bytes, a file over its limits (refused), a file a bug met (failed when nothing of it was recorded,
held at its state when its records stand).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from gateway import outbox
from gateway.clock import Clock
from gateway.codes import finding
from gateway.config import Config
from gateway.crash import crash_point
from gateway.domain import (
    AckDeclaration,
    Acknowledgement,
    AckPayslip,
    Declaration,
    DeclarationFile,
    FileKind,
    ItemStatus,
    Location,
    Outcome,
    Payslip,
    PayslipFile,
    PayslipRequest,
)
from gateway.faults import as_fault
from gateway.log import get_logger
from gateway.receive import Claimed
from gateway.render.ack_pdf import render_ack_pdf
from gateway.render.ack_xml import check_ack_xml, render_ack_xml
from gateway.render.declaration_pdf import render_declaration_pdf
from gateway.render.payslip_pdf import render_payslip_pdf
from gateway.render.payslip_xml import check_payslip_xml, render_payslip_xml
from gateway.rules.contributions import fund_totals
from gateway.store.intake import TERMINAL, Duplicate, FileRow, IntakeStore
from gateway.store.repo import Store
from gateway.verdicts import FileVerdict
from gateway.workers import InlinePool, Limits, WorkerPool

log = get_logger("gateway.pipeline")  # the intake's events, under one logger name


@dataclass
class Pending:
    """A file delivered in a worker's group: its documents written (not yet synced), its rows to record."""

    row: FileRow
    expect: str
    then: Callable[[], None] | None
    docs: list[dict[str, Any]]
    batch: outbox.Batch
    outcome: str


class Delivery:
    """The documents of the file a lane is processing are kept in ``local`` (the pipeline's per-thread state:
    ``documents``, ``drawings``, ``batch``), written together and recorded with its final state."""

    def __init__(self, config: Config, store: Store, intake: IntakeStore, pool: WorkerPool | InlinePool,
                 clock: Clock, local: threading.local, *, employer_info: Callable[[str], dict[str, Any] | None],
                 contributions: Callable[[Declaration], Any], payslip: Callable[[PayslipRequest], Payslip],
                 value: Callable[[FileRow], DeclarationFile | PayslipFile]) -> None:
        self.config = config
        self.store = store
        self.intake = intake
        self.pool = pool
        self.clock = clock
        self.layout = outbox.Layout(config.outbox)
        self._local = local
        self.employer_info = employer_info
        self.contributions = contributions
        self.payslip = payslip
        self.value = value

    def deliver(self, row: FileRow) -> FileRow:
        verdict = FileVerdict.from_json(row.findings)
        value = self.value(row) if verdict.items else None
        with self.store.unit(read=True):  # what the documents show, read from one snapshot
            if isinstance(value, DeclarationFile):
                acks, notes = self._deliver_declarations(row, verdict, value)
                ack = self.ack(row, verdict, declarations=acks, notes=notes)
            elif isinstance(value, PayslipFile):
                ack = self.ack(row, verdict, payslips=self._deliver_payslips(row, verdict, value))
            else:
                ack = self.ack(row, verdict)
        # drawn and written once the read is over: no transaction stays open while a document is drawn
        for relative, made, kind, extra in self._local.drawings:
            data = made if isinstance(made, bytes) else self._draw(made)
            self._record_doc(kind, self._out(relative, data), row, **extra)
        self._local.drawings.clear()
        final = "refused" if ack.outcome is Outcome.REFUSED else "delivered"
        self.write_ack(row, ack, then=partial(self.intake.finish, row.id, final, outcome=ack.outcome.value),
                       expect="computed")
        if getattr(self._local, "group", None) is None:  # else said once the group is recorded
            log.info("file.delivered", reference=row.reference, outcome=ack.outcome.value)
        return replace(row, state=final, outcome=ack.outcome.value)

    def _deliver_declarations(self, row: FileRow, verdict: FileVerdict,
                              value: DeclarationFile) -> tuple[list[AckDeclaration], list[str]]:
        recorded = {d.position: d for d in self.intake.declarations_of(row.id)}
        by_index = {d.index: d for d in value.declarations}
        out: list[AckDeclaration] = []
        notes: list[str] = []
        for item in verdict.items:
            decl = by_index[item.index]
            funds: tuple[Any, ...] = ()
            reference = None
            info = self.employer_info(decl.employer) if item.accepted else None
            if item.accepted and info is not None:
                if row.test:
                    result = self.contributions(decl)
                    funds = result.totals
                    notes += [n for n in result.notes if n not in notes]
                    reference = decl_ref(row.reference, item.index)
                    people = {}
                else:
                    stored = recorded[item.index]
                    reference = stored.reference
                    funds = fund_totals(self.intake.contribution_amounts(stored.id))
                    notes += [n for n in self.contributions(decl).notes if n not in notes]
                    people = self.intake.line_people(stored.id)
                self._later(row, self.layout.declaration_pdf(
                    row.subscriber, decl.employer, str(decl.period), reference, row.test), partial(
                    render_declaration_pdf, decl, reference=reference, employer_name=info["name"],
                    employer_address=info["address"],
                    received_at=row.received_at.astimezone(self.config.tz),
                    names={p: (ln, fn) for p, (_r, ln, fn) in people.items()},
                    registrations={p: r for p, (r, _ln, _fn) in people.items()},
                    funds=funds, late=item.late, test=row.test),
                    "declaration-pdf", employer_id=info["id"],
                    declaration_id=None if row.test else recorded[item.index].id, period=str(decl.period))
            out.append(AckDeclaration(
                index=item.index, employer=item.employer, period=item.period,
                status=ItemStatus.ACCEPTED if item.accepted else ItemStatus.REFUSED,
                employees=len(decl.lines), total_gross=decl.total_gross, total_hours=decl.total_hours,
                reference=reference, late=item.late, funds=tuple(funds), findings=item.findings,
                employer_name=info["name"] if info else None))
        return out, notes

    def _deliver_payslips(self, row: FileRow, verdict: FileVerdict, value: PayslipFile) -> list[AckPayslip]:
        by_index = {r.index: r for r in value.requests}
        out: list[AckPayslip] = []
        for item in verdict.items:
            request = by_index[item.index]
            status = ItemStatus.ACCEPTED if item.accepted else ItemStatus.REFUSED
            if not item.accepted:
                out.append(AckPayslip(item.index, request.employer, str(request.period), request.registration,
                                      status, findings=item.findings))
                continue
            info = self.employer_info(request.employer)
            assert info is not None, "checked by the rules"
            payslip = self.payslip(request)
            reference = f"{row.reference}-P{item.index}"
            xml = render_payslip_xml(payslip, reference=reference, test=row.test)
            check_payslip_xml(xml)  # never deliver a payslip XML that breaks its own schema
            paths = {}
            pdf = partial(render_payslip_pdf, payslip, reference=reference, test=row.test)
            for suffix, made in (("pdf", pdf), ("xml", xml)):
                relative = self.layout.payslip(row.subscriber, request.employer, str(request.period),
                                               request.registration, reference, row.test, suffix)
                self._later(row, relative, made, f"payslip-{suffix}", employer_id=info["id"],
                            period=str(request.period))
                paths[suffix] = str(relative)
            out.append(AckPayslip(item.index, request.employer, str(request.period), request.registration,
                                  status, gross=payslip.gross, net=payslip.net, document=paths["pdf"],
                                  findings=item.findings))
        return out

    def _later(self, row: FileRow, relative: Any, made: bytes | Callable[[], bytes], kind: str,
               **extra: Any) -> None:
        """A document of the file being delivered, drawn and written after the reads of its delivery (at once
        outside ``process``)."""
        later = getattr(self._local, "drawings", None)
        if later is not None:
            later.append((relative, made, kind, extra))
        else:
            self._record_doc(kind, self._out(relative, made if isinstance(made, bytes) else self._draw(made)),
                             row, **extra)

    def ack(self, row: FileRow, verdict: FileVerdict, *, declarations: list[AckDeclaration] | None = None,
             payslips: list[AckPayslip] | None = None, notes: list[str] | None = None) -> Acknowledgement:
        declarations = declarations or []
        payslips = payslips or []
        item_total = sum(i.total_findings for i in verdict.items)
        return Acknowledgement(
            reference=row.reference, subscriber=row.subscriber, file_name=row.original_name, size=row.size,
            sha256=row.sha256, received_at=row.received_at.astimezone(self.config.tz),
            processed_at=(row.processed_at or self.clock.now()).astimezone(self.config.tz),
            outcome=verdict.outcome, kind=FileKind(row.kind) if row.kind else None, test=row.test,
            declarations=tuple(declarations), payslips=tuple(payslips), findings=verdict.findings,
            total_findings=verdict.total_findings + item_total, notes=tuple(verdict.notes) + tuple(notes or ()),
            rates=verdict.rates,
        )

    def write_ack(self, row: FileRow, ack: Acknowledgement, variant: str = "",
                   then: Callable[[], None] | None = None, expect: str | None = None) -> None:
        """The acknowledgement's files, then the rows of every document written for the file (and ``then``,
        the final state) in one transaction; with ``expect``, only if the file is still at that state (else
        another instance delivered it: the same files, already recorded)."""
        xml = render_ack_xml(ack)
        check_ack_xml(xml)  # never deliver an acknowledgement that breaks its own schema
        pdf = self._draw(partial(render_ack_pdf, ack))
        for suffix, data in (("xml", xml), ("pdf", pdf)):
            rel = self.layout.acknowledgement(row.subscriber, row.original_name if not variant else ack.file_name,
                                              row.reference, row.test, suffix, variant)
            written = self._out(rel, data)
            self._record_doc(f"ack-{suffix}", written, row)
        batch = getattr(self._local, "batch", None)
        group = getattr(self._local, "group", None)
        if group is not None and batch is not None and expect is not None:
            # a worker's group of files: this file's documents are made durable with the others' in one sync
            # round, then every file's rows in one transaction (:meth:`finish_group`)
            docs, self._local.documents = self._local.documents, []
            group.append(Pending(row, expect, then, docs, batch, ack.outcome.value))
            self._local.batch = outbox.Batch(self.layout)  # the file's own, now empty (discarded as before)
            return
        if batch is not None:
            batch.commit()  # every document of the file on disk before its rows say so
        with self.store.unit():
            if expect is not None and not self.intake.take(row.id, expect):
                log.info("file.delivered_elsewhere", reference=row.reference)
                return
            self._flush_docs()
            crash_point("ack-written")
            if then is not None:
                then()

    def finish_group(self, pending: list[Pending]) -> set[int]:
        """The documents of a group of files on disk (one sync round for them all), then the rows of every
        document and each file's final state in one transaction. Returns the ids of the files delivered here
        (not those another instance delivered meanwhile). A fault leaves every file of the group at
        ``computed``: taken again later, the same documents drawn and written again."""
        if not pending:
            return set()
        together = outbox.Batch(self.layout)
        try:
            for p in pending:
                together.absorb(p.batch)
            together.commit()  # every document of every file on disk before any row says so
        finally:
            together.discard()
        done = set()
        with self.store.unit():
            for p in pending:
                if not self.intake.take(p.row.id, p.expect):
                    log.info("file.delivered_elsewhere", reference=p.row.reference)
                    continue
                if p.docs:
                    self.intake.add_documents(p.docs)
                crash_point("ack-written")
                if p.then is not None:
                    p.then()
                done.add(p.row.id)
        for p in pending:
            if p.row.id in done:
                log.info("file.delivered", reference=p.row.reference, outcome=p.outcome)
        return done

    def _out(self, relative: Any, data: bytes) -> outbox.Written:
        """A document of the file being processed (made durable with the others, before they are recorded)."""
        batch = getattr(self._local, "batch", None)
        if batch is None:  # outside ``process`` (a duplicate's acknowledgement): at once
            return outbox.write(self.layout, relative, data)
        return batch.write(relative, data)

    def _draw(self, render: Callable[[], bytes]) -> bytes:
        """A PDF drawn through the pipeline's pool: here when the whole file is already in a worker process
        (its pool is inline), in a worker for a duplicate's or a parked file's acknowledgement."""
        return self.pool.run(render)

    def _record_doc(self, kind: str, written: outbox.Written, row: FileRow, **extra: Any) -> None:
        """A delivered document, recorded with the acknowledgement in one transaction (one per document
        cost more than drawing a small PDF); written again after a crash, its row is updated."""
        doc = dict(kind=kind, path=written.path, sha256=written.sha256, size=written.size,
                   subscriber_id=row.subscriber_id, received_file_id=row.id, created_at=self.clock.now(), **extra)
        pending = getattr(self._local, "documents", None)
        if pending is None:  # outside ``process`` (a duplicate's acknowledgement): at once
            self.intake.add_documents([doc])
        else:
            pending.append(doc)

    def _flush_docs(self) -> None:
        pending = getattr(self._local, "documents", None)
        if pending:
            self.intake.add_documents(pending)
            pending.clear()

    # duplicates and failures --------------------------------------------------------------------------------
    def duplicate(self, dup: Duplicate, claimed: Claimed, size: int, received_at: datetime) -> None:
        """The same bytes again: the earlier acknowledgement, marked as a duplicate; nothing recorded."""
        original = self.intake.file(dup.file_id)
        log.info("file.duplicate", reference=original.reference, name=claimed.name)
        verdict = FileVerdict.from_json(original.findings)
        earlier = self.ack(original, verdict, declarations=self._recorded_acks(original, verdict))
        ack = replace(earlier, outcome=Outcome.DUPLICATE, duplicate_of=original.reference, file_name=claimed.name,
                      received_at=received_at, processed_at=self.clock.now())
        self.write_ack(original, ack, variant=f".duplicate-{outbox.stamp(received_at)}")
        claimed.path.unlink(missing_ok=True)  # the original upload's bytes are kept; these are the same
        claimed.meta.unlink(missing_ok=True)

    def _recorded_acks(self, row: FileRow, verdict: FileVerdict) -> list[AckDeclaration]:
        recorded = {d.position: d for d in self.intake.declarations_of(row.id)}
        out = []
        for item in verdict.items:
            stored = recorded.get(item.index)
            funds = fund_totals(self.intake.contribution_amounts(stored.id)) if stored else ()
            out.append(AckDeclaration(
                index=item.index, employer=item.employer, period=item.period,
                status=ItemStatus.ACCEPTED if stored else ItemStatus.REFUSED,
                employees=stored.employees if stored else item.employees,
                total_gross=stored.total_gross if stored else _zero(), total_hours=stored.total_hours if stored else _zero(),
                reference=stored.reference if stored else None, late=item.late, funds=tuple(funds),
                findings=item.findings))
        return out

    def park(self, row: FileRow, exc: BaseException) -> None:
        """A bug met while processing the file. Nothing of it recorded: parked as ``failed`` (original kept
        where it is, an acknowledgement that says so). Its records committed: held at its state instead, so
        that no state ever says ``failed`` for records that stand (``gateway failed retry`` resumes it)."""
        row = self.intake.file(row.id)  # the state as committed (the failed transaction was rolled back)
        error = f"{type(exc).__name__}: {exc}"
        if row.state in TERMINAL:
            return
        if self._has_records(row):
            log.error("file.held", reference=row.reference, state=row.state, error=error[:300])
            self.intake.hold(row.id, error)
            return
        message = ("Une erreur technique est survenue pendant le traitement de ce fichier. Il est conservé ; "
                   f"contactez le support en citant la référence {row.reference}.")
        verdict = FileVerdict(findings=(finding("TECHNICAL_ERROR", message, Location(), None),), total_findings=1)
        self._conclude(row, replace(self.ack(row, verdict), outcome=Outcome.FAILED), "failed", error)

    def refuse_over_limits(self, row: FileRow, exc: BaseException) -> None:
        """The file took its worker down twice, or ran past its time limit: the file's own doing, refused
        with the code that says so (its records, if an earlier step committed any, are kept: held)."""
        if self._has_records(row):
            self.intake.hold(row.id, f"{type(exc).__name__}: {exc}")
            return
        limits = self.pool.limits if isinstance(self.pool, WorkerPool) else Limits()
        message = ("Le traitement de ce fichier dépasse les ressources permises (mémoire "
                   f"{limits.memory_mb} Mio, {limits.cpu_seconds} s de calcul, {limits.wall_seconds} s en tout) : "
                   "le fichier est refusé. Découpez-le en fichiers plus petits ou simplifiez-le, puis déposez-le "
                   "à nouveau.")
        verdict = FileVerdict(findings=(finding("FILE_RESOURCE_LIMIT", message, Location(),
                                                "un fichier traitable dans les limites"),), total_findings=1)
        self._conclude(row, self.ack(row, verdict), "refused", f"{type(exc).__name__}: {exc}")

    def _has_records(self, row: FileRow) -> bool:
        return row.state not in ("received", "validated") and bool(self.intake.declarations_of(row.id))

    def _conclude(self, row: FileRow, ack: Acknowledgement, state: str, error: str) -> None:
        """End a file that could not be processed: its acknowledgement, then its final state."""
        try:
            self.write_ack(row, ack)
        except Exception as exc:
            if as_fault(exc) is not None:
                raise
            log.exception("file.conclude_ack_error", reference=row.reference)
        self.intake.finish(row.id, state, outcome=ack.outcome.value, error=error[:2000],
                           processed_at=self.clock.now(), findings=FileVerdict(
                               findings=ack.findings, total_findings=ack.total_findings).to_json(),
                           total_findings=ack.total_findings)


def decl_ref(file_reference: str, index: int) -> str:
    return f"{file_reference}-D{index}"


def _zero() -> Any:
    from decimal import Decimal

    return Decimal("0.00")
