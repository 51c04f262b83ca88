"""The rates loader: exact decimals, and every malformed file refused with its name (and date)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import RateError
from gateway.rules.rates import LABEL_MAX, PACKAGE_DIR, RateBook, Unit, read_file

GOOD = """\
label = "Taux CAR salarial"
description = "Taux CAR salarié"
unit = "rate"

[values."2023-10-01"]
value = 0.0685
source = "CSM"
grade = "CSM"
checked = 2026-11-27
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, *expected: str) -> RateError:
    path = write(tmp_path, "car/employee", text)
    with pytest.raises(RateError) as info:
        read_file(path, "car/employee")
    message = str(info.value)
    assert str(path) in message, "the message names the file"
    for part in expected:
        assert part in message
    return info.value


def test_a_good_file_reads_exact_decimals(tmp_path: Path) -> None:
    p = read_file(write(tmp_path, "car/employee", GOOD), "car/employee")
    assert p.unit is Unit.RATE and p.label == "Taux CAR salarial"
    (v,) = p.values
    assert v.since == date(2023, 10, 1) and v.checked == date(2026, 11, 27)
    assert type(v.value) is Decimal and v.value == Decimal("0.0685")
    assert not v.unconfirmed


@pytest.mark.parametrize("key", ["2023-13-01", "2023-10-1", "01/10/2023", "2023-02-30", "1900-01-01"])
def test_bad_dates_are_refused(tmp_path: Path, key: str) -> None:
    refused(tmp_path, GOOD.replace("2023-10-01", key), key)


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    refused(tmp_path, GOOD.replace('unit = "rate"', 'unit = "rate"\nunits = "rate"'), "« units »")
    refused(tmp_path, GOOD.replace('grade = "CSM"', 'grade = "CSM"\nreference = "x"'), "« reference »")


def test_duplicate_keys_and_the_same_day_spelt_twice_are_refused(tmp_path: Path) -> None:
    refused(tmp_path, GOOD + GOOD[GOOD.index("[values"):], "TOML invalide")
    # a bare key and a quoted key are the same TOML key: refused as a duplicate
    bare = GOOD[GOOD.index("[values"):].replace('"2023-10-01"', "2023-10-01")
    refused(tmp_path, GOOD + bare, "TOML invalide")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("value = 0.0685", "value = 6.85", "hors plage"),  # a percentage typed instead of a fraction
    ("value = 0.0685", "value = -0.01", "hors plage"),
    ("value = 0.0685", 'value = "0.0685"', "nombre attendu"),
    ("value = 0.0685", "value = true", "nombre attendu"),
    ("value = 0.0685", "value = nan", "fini"),
    ('grade = "CSM"', 'grade = "csm"', "grade"),
    ('source = "CSM"', 'source = ""', "source"),
    ("checked = 2026-11-27", 'checked = "2026-11-27"', "checked"),
    ("checked = 2026-11-27", "checked = 2026-11-27T10:00:00", "checked"),
    ('unit = "rate"', 'unit = "percent"', "unit"),
    ('description = "Taux CAR salarié"\n', "", "description"),
    ('label = "Taux CAR salarial"\n', "", "« label » manquant"),
    ('label = "Taux CAR salarial"', 'label = " "', "« label » manquant"),
    ('label = "Taux CAR salarial"', 'label = "Taux de cotisation CAR, part salariale"', "trop long"),
    ('label = "Taux CAR salarial"', 'label = "Taux CAR\\nsalarial"', "une ligne"),
    ("value = 0.0685", "value = 0.0685\nunconfirmed = 1", "unconfirmed"),
    ("value = 0.0685", "value = 0.0685\ncomponents = { base = 0.0615, adjustment = 0.0060 }", "composantes"),
])
def test_bad_values_are_refused_naming_the_date(tmp_path: Path, old: str, new: str, expected: str) -> None:
    error = refused(tmp_path, GOOD.replace(old, new), expected)
    assert error.parameter == "car/employee"


def test_amounts_have_at_most_two_decimals(tmp_path: Path) -> None:
    text = GOOD.replace('unit = "rate"', 'unit = "amount"').replace("value = 0.0685", "value = 5840.005")
    refused(tmp_path, text, "2 décimales")


def test_a_file_without_values_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, 'label = "x"\ndescription = "x"\nunit = "rate"\n', "aucune valeur")


def test_the_package_data_loads_and_has_no_float() -> None:
    book = RateBook.load()
    assert book.sources == (str(PACKAGE_DIR),)
    for p in book.parameters.values():
        for v in p.values:
            assert type(v.value) is Decimal
            assert all(type(c) is Decimal for _, c in v.components)


def test_every_parameter_has_a_short_unique_french_label() -> None:
    book = RateBook.load()
    labels = [p.label for p in book.parameters.values()]
    assert all(label and len(label) <= LABEL_MAX and "/" not in label for label in labels), labels
    assert len(set(labels)) == len(labels), sorted(labels)
    assert book.parameter("car/ceiling").label == "Plafond CAR"
    assert book.parameter("ccss/employer").label == "Taux CCSS patronal"
    assert book.value("cmrc/ta_ceiling", date(2024, 11, 30)).label == "Plafond CMRC tranche A"


def test_only_an_operator_file_may_omit_the_label(tmp_path: Path) -> None:
    text = GOOD.replace('label = "Taux CAR salarial"\n', "")
    assert read_file(write(tmp_path, "car/employee", text), "car/employee", operator=True).label == ""
    refused(tmp_path, text, "« label » manquant")


def test_a_stray_file_in_a_rates_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "car").mkdir()
    (tmp_path / "car" / "employee.tml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(RateError, match="employee.tml"):
        RateBook.load(tmp_path)
