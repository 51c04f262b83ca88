"""French display helpers and text cleaning."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from gateway.render.text import clean, fr_date, fr_datetime, fr_decimal, fr_period, one_line


def test_datetime_is_shown_in_monaco_time() -> None:
    assert fr_datetime(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "2 juillet 2026 à 00:30:00"
    assert fr_datetime(datetime(2026, 12, 11, 8, 15, 7, tzinfo=UTC)) == "11 décembre 2026 à 09:15:07"


def test_dates_periods_numbers() -> None:
    assert fr_date(date(2026, 2, 3)) == "03/02/2026"
    assert fr_period("2026-08") == "août 2026"
    assert fr_period("2026-13") == "2026-13"
    assert fr_decimal(Decimal("19.50") * Decimal("1.25")) == "24,375"
    assert fr_decimal(Decimal("-1234.5")) == "-1\u202f234,50"


def test_cleaning() -> None:
    assert clean("Nguye\u0302\u0303n") == "Nguyễn"  # combining marks composed
    assert clean("a\x00b\x1bc") == "a\ufffdb\ufffdc"
    assert one_line("ligne\r\n2\tfin") == "ligne 2 fin"
    assert one_line("colonne « gross »") == "colonne «\u00a0gross\u00a0»"
