"""Lookup by date, the operator's rates_dir, and the staleness / unconfirmed warnings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.domain import Severity
from gateway.errors import RateError
from gateway.rules.rates import RateBook, RateLookup, is_stale


@pytest.fixture(scope="module")
def book() -> RateBook:
    return RateBook.load()


def test_lookup_on_the_boundaries(book: RateBook) -> None:
    assert book.value("car/ceiling", date(2023, 9, 30)).value == Decimal("5504.00")
    use = book.value("car/ceiling", date(2023, 10, 1))
    assert (use.value, use.since) == (Decimal("5840.00"), date(2023, 10, 1))
    assert book.value("car/ceiling", date(2024, 9, 30)).value == Decimal("5840.00")
    assert book.value("car/ceiling", date(2030, 1, 1)).since == date(2025, 10, 1)  # latest stays in force


def test_no_value_in_force_names_the_parameter_and_the_date(book: RateBook) -> None:
    with pytest.raises(RateError) as info:
        book.value("cmrc/ta_ceiling", date(2023, 12, 31))
    assert info.value.parameter == "cmrc/ta_ceiling" and info.value.on == date(2023, 12, 31)
    assert "cmrc/ta_ceiling" in str(info.value) and "31/12/2023" in str(info.value)
    assert "« Plafond CMRC tranche A »" in str(info.value)  # for people, with the identifier for the operator


def test_an_unknown_parameter_is_an_error(book: RateBook) -> None:
    with pytest.raises(RateError, match="car/employe"):
        book.value("car/employe", date(2024, 1, 1))


def test_a_rate_use_says_where_it_comes_from(book: RateBook) -> None:
    use = book.value("ccss/employer", date(2024, 11, 30))
    assert use.parameter == "ccss/employer" and use.since == date(2024, 10, 1)
    assert use.unconfirmed and use.checked is not None and use.source
    parts = {"ccss": Decimal("0.1315"), "omt": Decimal("0.0025"), "cgcs": Decimal("0.0005")}
    assert dict(use.components) == parts
    assert not book.value("ccss/employer", date(2023, 11, 30)).unconfirmed


OVERRIDE = """\
description = "Taux CAR salarié (opérateur)"
unit = "rate"

[values."2024-10-01"]
value = 0.0685
source = "Page « Cotisations » de la CSM, vérifiée par le Service Recouvrement"
grade = "CSM"
checked = 2026-12-01

[values."2026-10-01"]
value = 0.0690
source = "Arrêté ministériel n° 2026-xxx"
grade = "JdM"
checked = 2026-12-01
"""


def test_operator_rates_dir_adds_and_overrides_dates(tmp_path: Path) -> None:
    (tmp_path / "car").mkdir()
    (tmp_path / "car" / "employee.toml").write_text(OVERRIDE, encoding="utf-8")
    (tmp_path / "README.md").write_text("notes de l'opérateur", encoding="utf-8")
    book = RateBook.load(tmp_path)
    overridden = book.value("car/employee", date(2024, 11, 30))
    assert not overridden.unconfirmed and overridden.checked == date(2026, 12, 1)  # was UNCONFIRMED
    assert book.value("car/employee", date(2026, 10, 1)).value == Decimal("0.0690")  # new date
    assert book.value("car/employee", date(2023, 11, 30)).source.startswith("CSM")  # package dates kept
    assert book.parameter("car/employee").description.startswith("Taux CAR salarié (base")  # package's
    assert book.parameter("car/employee").label == "Taux CAR salarial"  # the operator's file has none
    assert overridden.label == "Taux CAR salarial"
    assert book.sources[1] == str(tmp_path)


def test_operator_file_for_an_unknown_parameter_or_unit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "car").mkdir()
    (tmp_path / "car" / "employe.toml").write_text(OVERRIDE, encoding="utf-8")
    with pytest.raises(RateError, match="paramètre inconnu « car/employe »"):
        RateBook.load(tmp_path)
    (tmp_path / "car" / "employe.toml").unlink()
    (tmp_path / "car" / "ceiling.toml").write_text(OVERRIDE, encoding="utf-8")
    with pytest.raises(RateError, match="unité"):
        RateBook.load(tmp_path)


def test_missing_operator_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RateError, match="introuvable"):
        RateBook.load(tmp_path / "absent")


def test_is_stale_counts_days_after_the_check() -> None:
    checked = date(2026, 1, 1)
    assert not is_stale(checked, date(2026, 1, 11), 10)
    assert is_stale(checked, date(2026, 1, 12), 10)
    assert not is_stale(checked, date(2025, 1, 1), 10)  # a period before the check is never stale
    assert not is_stale(None, date(2030, 1, 1), 10)


def test_lookup_warnings_stale_and_unconfirmed(book: RateBook) -> None:
    rates = RateLookup(book)
    rates.get("car/ceiling", date(2024, 11, 30))  # CSM, checked 2026-11-27
    rates.get("ccss/employer", date(2024, 11, 30))  # UNCONFIRMED
    (unconfirmed,) = rates.findings(400)
    assert unconfirmed.code == "RATE_UNCONFIRMED"
    assert "« Taux CCSS patronal » = 13,45\u00a0%" in unconfirmed.message
    assert "ccss/employer" not in unconfirmed.message
    later = RateLookup(book)
    later.get("cmrc/tb_factor", date(2028, 1, 31))  # confirmed, but 430 days after its last check
    (finding,) = later.findings(400)
    assert finding.code == "RATE_STALE" and finding.severity is Severity.WARNING
    assert "« Plafond TB en multiple de TA »" in finding.message and "27/11/2026" in finding.message
    assert "cmrc/tb_factor" not in finding.message
    assert later.findings(500) == ()
