"""The read-only view of the records that the declaration rules need.

The rules are pure functions over domain values and this view; the store implements it with queries,
tests with a small in-memory fake, and the offline validator without records at all (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from gateway.domain import Period


@dataclass(frozen=True, slots=True)
class KnownEmployee:
    registration: str
    last_name: str
    first_name: str
    birth_date: date | None


class RecordsView(Protocol):
    """What the Caisses already know, as seen by one subscriber at one moment."""

    def is_assigned(self, subscriber: str, employer: str, on: date) -> bool:
        """The subscriber declares for this employer on that date (False also when the employer is unknown)."""
        ...

    def has_declaration(self, employer: str, period: Period) -> bool:
        """An original declaration is already recorded for this employer and period."""
        ...

    def employee(self, registration: str) -> KnownEmployee | None:
        """The employee with this registration number, or None when the Caisses do not know it."""
        ...

    def is_employed(self, employer: str, registration: str, on: date) -> bool:
        """The employee has an employment with this employer that covers that date."""
        ...
