"""The part of a month an employee was employed: which date's rates apply, and how ceilings are prorated.

Reference (CSM « Cotisations »): the rates and ceilings are those in force on the last day of each
employment period; for a partial month the monthly ceiling is prorated, the Caisses regularising over the
year. The exact proration formula is unconfirmed: calendar days employed / days in the month, here and
nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.domain import EmployeeLine, EventType, Period
from gateway.money import round_cents

PRORATION_NOTE = (
    "Plafonds proratisés pour une période d'emploi partielle dans le mois : plafond mensuel × jours "
    "calendaires d'emploi / jours du mois, arrondi au centime. La régularisation annuelle des Caisses "
    "s'applique."
)


@dataclass(frozen=True, slots=True)
class Employment:
    """From ``start`` to ``end`` (both included) within ``period``."""

    period: Period
    start: date
    end: date

    @classmethod
    def of(cls, period: Period, span: tuple[date, date] | None) -> Employment:
        """The whole month when ``span`` is None; otherwise ``span`` clipped to the month."""
        if span is None:
            return cls(period, period.first_day, period.last_day)
        start, end = max(span[0], period.first_day), min(span[1], period.last_day)
        if start > end:
            raise ValueError(f"période d'emploi {span[0]} → {span[1]} hors du mois {period}")
        return cls(period, start, end)

    @property
    def applies_on(self) -> date:
        """The date whose rates and ceilings apply: the last day of employment in the month."""
        return self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def full(self) -> bool:
        return self.days == self.period.days

    def prorate(self, ceiling: Decimal) -> Decimal:
        """THE proration of a monthly ceiling: unchanged for a full month, else × days / days in month."""
        if self.full:
            return ceiling
        return round_cents(ceiling * self.days / self.period.days)


def employment_from_events(line: EmployeeLine, period: Period) -> tuple[date, date] | None:
    """The span given by the line's ``hire``/``departure`` events, or None for a full month."""
    start, end = period.first_day, period.last_day
    for event in line.events:
        if event.type is EventType.HIRE and event.start is not None:
            start = max(start, event.start)
        elif event.type is EventType.DEPARTURE and event.end is not None:
            end = min(end, event.end)
    if (start, end) == (period.first_day, period.last_day):
        return None
    return start, end
