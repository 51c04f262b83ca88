"""Judge: a file read into its value, judged against the rules and the records, with its contributions and
payslips computed, before anything is recorded — the verdict of the file and of each item in it.

Reads only (one snapshot of what the rules need); the contributions and payslips come from the functions the
pipeline gives (memoised per file there, since recording and delivery need them again). Warnings about the
rates used are said once per file, naming the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from gateway import formats
from gateway.codes import cap, finding
from gateway.domain import (
    AppliedValue,
    Declaration,
    DeclarationFile,
    Finding,
    Location,
    Payslip,
    PayslipFile,
    PayslipRequest,
    RateUse,
    ReadResult,
)
from gateway.errors import RateError
from gateway.rules.context import CheckContext
from gateway.rules.rates import RateBook, missing_rate_finding
from gateway.store.intake import FileRow, IntakeStore
from gateway.store.repo import Store
from gateway.verdicts import FileVerdict, Item


class Judge:
    def __init__(self, store: Store, intake: IntakeStore, book: RateBook,
                 contributions: Callable[[Declaration], Any], payslip: Callable[[PayslipRequest], Payslip]) -> None:
        self.store = store
        self.intake = intake
        self.book = book
        self.contributions = contributions
        self.payslip = payslip

    def file(self, row: FileRow, result: ReadResult, context: CheckContext) -> FileVerdict:
        file_findings = list(result.findings)
        total = max(result.total_findings, len(file_findings))
        state = self.intake.subscriber_state(row.subscriber)
        if state is not None and not state[2] and result.value is not None:
            file_findings.insert(0, finding(
                "SUBSCRIBER_EMAIL_UNVERIFIED",
                "Votre adresse e-mail n'est pas encore validée : aucune déclaration ne peut être enregistrée. "
                "Déposez le fichier email-verification.txt contenant le code reçu par e-mail.",
                Location(), "une adresse e-mail validée"))
            total += 1
        items: list[Item] = []
        rates: tuple[AppliedValue, ...] = ()
        if result.value is not None:
            view = self.store.records_view(row.subscriber)
            items_of = list(_items_of(result.value))
            view.prefetch((i.employer for i in items_of), _registrations(items_of))
            verdicts = {v.index: v for v in formats.check(result, context, view)}
            shared: dict[str, Finding] = {}
            applied: dict[tuple[str, str], AppliedValue] = {}
            items = [self._item(value, verdicts.get(i), shared, applied)
                     for i, value in enumerate(_items_of(result.value), 1)]
            rates = tuple(applied[k] for k in sorted(applied))
            summary = _rate_warning_summary(list(shared.values()), rates)
            file_findings += summary
            total += len(summary)
        kept, _ = cap(file_findings)
        if any(f.is_error for f in kept):
            # an error about the file as a whole (sender not allowed to declare) refuses every item in it
            items = [replace(i, accepted=False) for i in items]
        return FileVerdict(findings=kept, total_findings=total, items=tuple(items), rates=rates)

    def _item(self, value: Declaration | Any, verdict: Any, shared: dict[str, Finding],
              applied: dict[tuple[str, str], AppliedValue]) -> Item:
        """One declaration or payslip request judged; warnings about the rates used go once into ``shared``
        (the same unconfirmed rate concerns every declaration of the period: said once per file)."""
        findings = list(verdict.findings) if verdict else []
        total = verdict.total_findings if verdict else 0
        if isinstance(value, Declaration):
            if not any(f.is_error for f in findings):
                # contributions are judged before recording: no rate in force refuses the declaration
                result = self.contributions(value)
                self._applied(result.lines, applied)
                own = _share_rate_warnings(result.findings, shared)
                findings += own
                total += len(own)
            kept, _ = cap(findings)
            return Item(index=value.index, employer=value.employer, period=str(value.period),
                        accepted=not any(f.is_error for f in kept), findings=kept, total_findings=max(total, len(kept)),
                        late=bool(verdict and verdict.late), employees=len(value.lines))
        if not any(f.is_error for f in findings):
            # the payslip is computed before it is accepted: no rate in force refuses it
            try:
                payslip = self.payslip(value)
                self._applied(payslip.contributions, applied)
                own = _share_rate_warnings(payslip.findings, shared)
                findings += own
                total += len(own)
            except RateError as exc:
                findings.append(missing_rate_finding(exc, value.location))
                total += 1
        kept, _ = cap(findings)
        return Item(index=value.index, employer=value.employer, period=str(value.period),
                    accepted=not any(f.is_error for f in kept), findings=kept, total_findings=max(total, len(kept)),
                    registration=value.registration)

    def _applied(self, lines: Any, applied: dict[tuple[str, str], AppliedValue]) -> None:
        """The dated values behind contribution lines, once each, for the acknowledgement."""
        for line in lines:
            for use in (line.rate_use, line.ceiling_use, line.base_use):
                if use is None or (use.parameter, str(use.since)) in applied:
                    continue
                applied[(use.parameter, str(use.since))] = AppliedValue(
                    parameter=use.parameter, since=use.since, value=use.value, unit=self._unit(use),
                    source=use.source, unconfirmed=use.unconfirmed, components=tuple(use.components),
                    label=use.label)

    def _unit(self, use: RateUse) -> str:
        """The unit of a parameter, or of the first part of a formula of parameters."""
        name = use.components[0][0] if use.components and use.parameter not in self.book.parameters \
            else use.parameter
        parameter = self.book.parameters.get(name)
        return parameter.unit.value if parameter is not None else "rate"


RATE_WARNINGS = ("RATE_UNCONFIRMED", "RATE_STALE")


_QUOTED = re.compile(r"« ([^»]+) »")
_RATE_SUMMARY = {
    "RATE_UNCONFIRMED": ("{n} valeur(s) non confirmée(s) par une source officielle ont servi au calcul : {names}. "
                         "Les montants sont calculés avec la meilleure valeur connue, à confirmer auprès des "
                         "Caisses (voir « Taux et plafonds appliqués »)."),
    "RATE_STALE": ("{n} valeur(s) n'ont pas été revérifiées depuis longtemps : {names} "
                   "(voir « Taux et plafonds appliqués »)."),
}


def _rate_warning_summary(warnings: list[Finding], rates: tuple[AppliedValue, ...]) -> list[Finding]:
    """One warning per code for the whole file, naming the values (their detail is in the rates list).

    The unconfirmed values named are the rows the rates list marks « non confirmé » (a CMRC rate made of an
    unconfirmed input is one of them; the input itself is not a row), so the count and the list agree."""
    out = []
    for code, template in _RATE_SUMMARY.items():
        if not any(f.code == code for f in warnings):
            continue
        named = {m.group(1) for f in warnings if f.code == code if (m := _QUOTED.search(f.message))}
        if code == "RATE_UNCONFIRMED" and any(r.unconfirmed for r in rates):
            named = {r.label or r.parameter for r in rates if r.unconfirmed}
        names = sorted(named, key=str.casefold)  # the values' French labels, in dictionary order
        if names:
            out.append(finding(code, template.format(n=len(names), names=", ".join(names)), Location(),
                               "des valeurs confirmées et vérifiées récemment"))
    return out


def _share_rate_warnings(findings: tuple[Finding, ...], shared: dict[str, Finding]) -> list[Finding]:
    """Rate warnings moved to ``shared`` (file level, once each, no location); the other findings returned."""
    own = []
    for f in findings:
        if f.code in RATE_WARNINGS:
            shared.setdefault(f.message, replace(f, location=Location()))
        else:
            own.append(f)
    return own


def _registrations(items: list[Any]) -> Iterator[str]:
    for item in items:
        if isinstance(item, Declaration):
            yield from (line.registration for line in item.lines if line.registration)
        else:
            yield item.registration


def _items_of(value: DeclarationFile | PayslipFile) -> Iterator[Any]:
    return iter(value.declarations if isinstance(value, DeclarationFile) else value.requests)
