"""CSV for spreadsheets: formula injection defused, BOM, semicolons, numbers stay numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.render.csv_out import render_csv, safe_text


@pytest.mark.parametrize("text", ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_formula_starts_are_defused(text: str) -> None:
    assert safe_text(text) == "'" + text


def test_document() -> None:
    data = render_csv(
        ["employeur", "nom", "brut", "date", "retard"],
        [["104512", "=cmd|' /C calc'!A0", Decimal("-12.50"), date(2026, 11, 30), True],
         ["104513", "Żółć; \"Ægir\"", Decimal("3250.00"), None, False]],
    )  # fmt: skip
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "employeur;nom;brut;date;retard"
    assert lines[1] == "104512;'=cmd|' /C calc'!A0;-12,50;2026-11-30;oui"
    assert lines[2] == '104513;"Żółć; ""Ægir""";3250,00;;non'


def test_row_length_checked() -> None:
    with pytest.raises(ValueError):
        render_csv(["a", "b"], [["1"]])
