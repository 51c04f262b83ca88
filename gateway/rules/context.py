"""What the rules need besides the file and the records: who sent it, when, and the calendar settings.

And what they return: one :class:`Verdict` per declaration or payslip request, each judged on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from gateway.domain import Finding

if TYPE_CHECKING:
    from gateway.config import Config


@dataclass(frozen=True, slots=True)
class CheckContext:
    """The circumstances of one upload.

    ``today`` is the day the file was received, in the gateway's zone. ``subscriber`` is None offline
    (``gateway validate`` without ``--subscriber``), when no record rule runs anyway.
    """

    today: date
    subscriber: str | None = None
    period_open_day: int = 20
    due_day: int = 10

    @classmethod
    def from_config(cls, config: Config, today: date, subscriber: str | None = None) -> CheckContext:
        d = config.declarations
        return cls(today=today, subscriber=subscriber, period_open_day=d.period_open_day, due_day=d.due_day)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The rules' judgement of one item of a file (1-based ``index``, as in the file)."""

    index: int
    findings: tuple[Finding, ...] = ()
    total_findings: int = 0
    late: bool = False

    @property
    def accepted(self) -> bool:
        return not any(f.is_error for f in self.findings)
