"""The injectable clock: every 'now' and 'today' of the gateway comes from here, in the configured zone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

FAKE_NOW_VAR = "GATEWAY_FAKE_NOW"  # ISO datetime with offset, for tests that drive a real process


@dataclass(frozen=True)
class Clock:
    tz: ZoneInfo
    fixed: datetime | None = None

    def now(self) -> datetime:
        """Aware, in the gateway's zone (Europe/Monaco by default)."""
        if self.fixed is not None:
            return self.fixed.astimezone(self.tz)
        return datetime.now(UTC).astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()


def system_clock(tz: ZoneInfo) -> Clock:
    """The real clock, unless GATEWAY_FAKE_NOW pins it (end-to-end tests on a real process)."""
    fake = os.environ.get(FAKE_NOW_VAR)
    if fake:
        fixed = datetime.fromisoformat(fake)
        if fixed.tzinfo is None:
            fixed = fixed.replace(tzinfo=tz)
        return Clock(tz, fixed)
    return Clock(tz)
