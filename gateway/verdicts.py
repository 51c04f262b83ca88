"""The judgement of an upload as stored in the database (JSON), so that delivery after a crash says exactly
what was decided before it, without judging again against records that have changed since."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.domain import AppliedValue, Finding, Location, Outcome, Severity


def finding_to_json(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {"code": f.code, "message": f.message, "severity": f.severity.value, "expected": f.expected,
            "line": loc.line, "column": loc.column, "xpath": loc.xpath, "field": loc.field}


def finding_from_json(d: dict[str, Any]) -> Finding:
    return Finding(code=d["code"], message=d["message"], severity=Severity(d["severity"]),
                   location=Location(line=d.get("line"), column=d.get("column"), xpath=d.get("xpath"),
                                     field=d.get("field")),
                   expected=d.get("expected"))


@dataclass(frozen=True)
class Item:
    """One declaration or payslip request of the file, as judged."""

    index: int
    employer: str
    period: str
    accepted: bool
    findings: tuple[Finding, ...] = ()
    total_findings: int = 0
    late: bool = False
    registration: str | None = None  # payslip requests
    employees: int = 0


@dataclass(frozen=True)
class FileVerdict:
    findings: tuple[Finding, ...] = ()  # about the file as a whole
    total_findings: int = 0
    items: tuple[Item, ...] = ()
    notes: tuple[str, ...] = field(default=())
    verified_email: bool = False  # an email-verification.txt that proved the address
    rates: tuple[AppliedValue, ...] = ()  # the dated values the figures were computed with

    @property
    def outcome(self) -> Outcome:
        if self.verified_email:
            return Outcome.ACCEPTED
        if any(f.is_error for f in self.findings) or not self.items:
            return Outcome.REFUSED
        accepted = sum(1 for i in self.items if i.accepted)
        if accepted == len(self.items):
            return Outcome.ACCEPTED
        return Outcome.PARTLY_ACCEPTED if accepted else Outcome.REFUSED

    def refuse_item(self, index: int, extra: Finding) -> FileVerdict:
        items = tuple(replace(i, accepted=False, findings=i.findings + (extra,), total_findings=i.total_findings + 1)
                      if i.index == index else i for i in self.items)
        return replace(self, items=items)

    def to_json(self) -> dict[str, Any]:
        return {
            "findings": [finding_to_json(f) for f in self.findings],
            "total": self.total_findings,
            "notes": list(self.notes),
            "verified_email": self.verified_email,
            "rates": [{"parameter": r.parameter, "label": r.label, "since": r.since.isoformat(),
                       "value": f"{r.value:f}", "unit": r.unit, "source": r.source,
                       "unconfirmed": r.unconfirmed, "components": [[n, f"{v:f}"] for n, v in r.components]} for r in self.rates],
            "items": [{
                "index": i.index, "employer": i.employer, "period": i.period, "accepted": i.accepted,
                "findings": [finding_to_json(f) for f in i.findings], "total": i.total_findings,
                "late": i.late, "registration": i.registration, "employees": i.employees,
            } for i in self.items],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> FileVerdict:
        if not d:
            return cls()
        return cls(
            findings=tuple(finding_from_json(f) for f in d.get("findings", [])),
            total_findings=d.get("total", 0),
            notes=tuple(d.get("notes", [])),
            verified_email=bool(d.get("verified_email", False)),
            rates=tuple(AppliedValue(
                parameter=r["parameter"], since=date.fromisoformat(r["since"]), value=Decimal(r["value"]),
                unit=r["unit"], source=r["source"], unconfirmed=r["unconfirmed"],
                components=tuple((n, Decimal(v)) for n, v in r["components"]),
                label=r.get("label", "")) for r in d.get("rates", [])),  # "": a verdict stored before labels
            items=tuple(Item(
                index=i["index"], employer=i["employer"], period=i["period"], accepted=i["accepted"],
                findings=tuple(finding_from_json(f) for f in i["findings"]), total_findings=i["total"],
                late=i["late"], registration=i.get("registration"), employees=i.get("employees", 0),
            ) for i in d.get("items", [])),
        )
