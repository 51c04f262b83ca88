"""The CSV readers: valid files, strict numbers, and every broken case refused with its line and column."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import DATA

from gateway import formats
from gateway.domain import DeclarationFile, EventType, FileKind, PayslipFile

HEADER = "employer;period;registration;last_name;first_name;birth_date;director;gross;hours;event;event_start;event_end"
ROW = "104512;2026-11;2001234;;;;;3250,00;169,00;;;"
P_HEADER = (
    "employer;period;registration;hourly_rate;hours;overtime_25_hours;overtime_50_hours;"
    "element_kind;element_label;element_amount"
)


def read(text: str | bytes, name: str = "f.csv", **limits: int) -> formats.ReadResult:
    data = text.encode() if isinstance(text, str) else text
    return formats.read(data, name, formats.Limits(**limits) if limits else None)


def test_declaration_csv_gives_the_same_values_as_xml() -> None:
    xml = read((DATA / "declaration-valid.xml").read_bytes(), "d.xml").value
    csv = read((DATA / "declaration-valid.csv").read_bytes()).value
    assert isinstance(xml, DeclarationFile) and isinstance(csv, DeclarationFile)
    x, c = xml.declarations[0], csv.declarations[0]
    assert (x.employer, x.period) == (c.employer, c.period)
    for a, b in zip(x.lines, c.lines, strict=True):
        assert (a.registration, a.last_name, a.first_name, a.birth_date, a.director) == (
            b.registration,
            b.last_name,
            b.first_name,
            b.birth_date,
            b.director,
        )
        assert (str(a.gross), str(a.hours)) == (str(b.gross), str(b.hours))  # both to the cent
    # the CSV has one more event (a continuation row) for the second employee
    assert [e.type for e in c.lines[1].events] == [EventType.SICKNESS, EventType.PAID_LEAVE]
    assert c.lines[1].events[1].location.line == 4


def test_bom_comma_separator_and_test_file_name() -> None:
    text = "\ufeff" + HEADER.replace(";", ",") + "\n" + '104512,11/2026,2001234,,,,non,"3250,5",169,,,\n'
    result = read(text, "paie.TEST.csv")
    assert result.ok and isinstance(result.value, DeclarationFile)
    assert result.value.test
    assert result.value.declarations[0].lines[0].gross == Decimal("3250.50")


def test_payslip_csv() -> None:
    result = read((DATA / "payslip-valid.csv").read_bytes())
    assert result.kind is FileKind.PAYSLIP and result.ok
    assert isinstance(result.value, PayslipFile)
    request = result.value.requests[0]
    assert request.hourly_rate == Decimal("19.50") and len(request.elements) == 4
    assert request.overtime[0].rate == 25


BAD_VALUES = [
    # (column, value, code)
    ("gross", "１２３", "CSV_NUMBER_INVALID"),
    ("gross", "1_000", "CSV_NUMBER_INVALID"),
    ("gross", "NaN", "CSV_NUMBER_INVALID"),
    ("gross", "1e3", "CSV_NUMBER_INVALID"),
    ("gross", "1 000,00", "CSV_NUMBER_INVALID"),
    ("gross", "1.000,00", "CSV_NUMBER_INVALID"),
    ("gross", "-5", "CSV_NUMBER_INVALID"),
    ("gross", "3,333", "CSV_NUMBER_INVALID"),
    ("gross", "10000000", "CSV_VALUE_OUT_OF_RANGE"),
    ("hours", "745", "CSV_VALUE_OUT_OF_RANGE"),
    ("birth_date", "31/02/1990", "CSV_DATE_INVALID"),
    ("birth_date", "1990/01/01", "CSV_DATE_INVALID"),
    ("period", "2026-13", "CSV_PERIOD_INVALID"),
    ("director", "peut-être", "CSV_BOOLEAN_INVALID"),
    ("registration", "12345", "CSV_IDENTIFIER_INVALID"),
    ("registration", "２００１２３４", "CSV_IDENTIFIER_INVALID"),
    ("employer", "", "CSV_VALUE_REQUIRED"),
    ("last_name", "M4RTIN", "CSV_NAME_INVALID"),
    ("event", "party", "CSV_CODE_INVALID"),
    ("event_start", "2026-11-01", "CSV_VALUE_NOT_ALLOWED"),
]


@pytest.mark.parametrize(("column", "value", "code"), BAD_VALUES)
def test_bad_value_refused_with_line_and_column(column: str, value: str, code: str) -> None:
    names = HEADER.split(";")
    fields = ROW.split(";")
    fields[names.index(column)] = value
    text = f"{HEADER}\n{ROW}\n" + ";".join(fields) + "\n"
    result = read(text)
    assert result.value is None
    f = result.findings[0]
    assert (f.code, f.location.line, f.location.column, f.location.field) == (
        code,
        3,
        names.index(column) + 1,
        column,
    )
    assert f.expected


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        (f"{HEADER}\n{ROW}\n104512;2026-11;20\x0012;;;;;1;1;;;\n", "CSV_CONTROL_CHARACTER", 3, 18),
        (f"{HEADER}\n{ROW}\n104512;2026-11;2001235;;;;;1;1\x07;;;\n", "CSV_CONTROL_CHARACTER", 3, 31),
        (f"{HEADER}\n{ROW}\n104512;2026-11;2001235;;;;;1;1;;;\t\n", "CSV_CONTROL_CHARACTER", 3, 34),
        (f"{HEADER}\n{ROW};extra\n", "CSV_FIELD_COUNT", 2, None),
        (f'{HEADER}\n{ROW}\n104512;2026-11;"2001235;;;;;1;1;;;\n', "CSV_SYNTAX", 3, None),
        (HEADER.replace("gross", "gros") + f"\n{ROW}\n", "CSV_COLUMN_UNKNOWN", 1, 8),
        (HEADER + ";hours\n" + ROW + ";1\n", "CSV_COLUMN_DUPLICATE", 1, 13),
        (
            HEADER.replace(";event_end", "") + "\n104512;2026-11;2001234;;;;;1;1;;\n",
            "CSV_COLUMN_MISSING",
            1,
            None,
        ),
        (f"{HEADER}\n", "CSV_NO_ROWS", 2, None),
        (
            f"{HEADER}\n{ROW}\n104512;2026-11;2009999;;;;;;;sickness;2026-11-02;2026-11-03\n",
            "CSV_CONTINUATION_ORPHAN",
            3,
            3,
        ),
        (f"{HEADER}\n{ROW}\n104512;2026-11;2001234;;;;;;;;;\n", "CSV_VALUE_REQUIRED", 3, 10),
        (
            f"{HEADER}\n{ROW}\n104512;2026-11;2001234;;;;oui;;;notice;2026-11-02;2026-11-03\n",
            "CSV_VALUE_NOT_ALLOWED",
            3,
            7,
        ),
        (f"{HEADER}\n104512;2026-11;2001234;;;;;3250;;;;\n", "CSV_VALUE_REQUIRED", 2, 9),
    ],
)
def test_broken_csv_located(text: str, code: str, line: int, column: int | None) -> None:
    result = read(text)
    assert result.value is None and result.kind is FileKind.DECLARATION
    f = result.findings[0]
    assert (f.code, f.location.line, f.location.column) == (code, line, column), result.findings


def test_invalid_utf8_located() -> None:
    data = f"{HEADER}\n{ROW}\n".encode() + b"104512;2026-11;;MARTIN;Zo\xe9;01/01/1990;;1;1;;;\n"
    f = read(data).findings[0]
    assert (f.code, f.location.line, f.location.column) == ("CSV_ENCODING_INVALID", 3, 26)


def test_oversized_field_and_huge_field() -> None:
    long_name = "A" * 300
    f = read(f"{HEADER}\n{ROW}\n104512;2026-11;;{long_name};Paul;01/01/1990;;1;1;;;\n").findings[0]
    assert (f.code, f.location.line, f.location.field) == ("CSV_FIELD_TOO_LONG", 3, "last_name")
    huge = read(f'{HEADER}\n{ROW}\n104512;2026-11;;"{"A" * 200_000}";Paul;01/01/1990;;1;1;;;\n').findings[0]
    assert huge.code == "CSV_FIELD_TOO_LONG"


def test_too_many_rows() -> None:
    rows = "\n".join(f"104512;2026-11;{2000000 + i};;;;;1;1;;;" for i in range(11))
    f = read(f"{HEADER}\n{rows}\n", max_csv_rows=10).findings[0]
    assert (f.code, f.location.line) == ("CSV_TOO_MANY_ROWS", 12)


def test_errors_capped_at_100_with_total() -> None:
    rows = "\n".join(f"104512;2026-11;{2000000 + i};;;;;NaN;1;;;" for i in range(150))
    result = read(f"{HEADER}\n{rows}\n")
    assert len(result.findings) == 100 and result.total_findings == 150


def test_payslip_csv_errors() -> None:
    bad = read(f"{P_HEADER}\n104512;2026-11;2001234;19,5;151,67;;;bonus;;250\n").findings[0]
    assert (bad.code, bad.location.field) == ("CSV_VALUE_REQUIRED", "element_label")
    orphan = read(f"{P_HEADER}\n104512;2026-11;2001234;;;;;bonus;Prime;250\n").findings[0]
    assert orphan.code == "CSV_CONTINUATION_ORPHAN"
    rate = read(f"{P_HEADER}\n104512;2026-11;2001234;19,12345;151,67;;;;;\n").findings[0]
    assert (rate.code, rate.location.field) == ("CSV_NUMBER_INVALID", "hourly_rate")


def test_kind_from_header() -> None:
    both = read("employer;period;registration;gross;hourly_rate\n1;2;3;4;5\n").findings[0]
    assert both.code == "FILE_AMBIGUOUS_KIND"
    neither = read("name;amount\nx;1\n").findings[0]
    assert neither.code == "FILE_UNKNOWN_KIND"
