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


def test_cleaning_shortcuts_give_the_full_result() -> None:
    """clean and one_line return most values untouched without working on them: the same result as the full
    treatment, for every kind of character that treatment changes."""
    import random
    import re
    import unicodedata

    def full_clean(value: object) -> str:
        text = unicodedata.normalize("NFC", str(value))
        return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]", "\ufffd", text)

    def full_one_line(value: object) -> str:
        text = re.sub(r"[\t\r\n]+", " ", full_clean(value))
        return text.replace("« ", "«\u00a0").replace(" »", "\u00a0»")

    alphabet = "aZ09 -/,.'é€\u00a0\u202f«»—ÿŁỄ\u0302\u0303e\t\r\n\x00\x1b\x7f\x85\ud800\ufffe\uffff漢"
    rng = random.Random(20261127)
    samples = ["", "Total", "1\u202f324,83\u00a0€", "« CAR »", "Nguye\u0302\u0303n", 12, Decimal("1.5"), None]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(5000)]
    for value in samples:
        assert clean(value) == full_clean(value), repr(value)
        assert one_line(value) == full_one_line(value), repr(value)
