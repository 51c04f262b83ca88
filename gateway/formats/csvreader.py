"""The CSV side of the formats: decoding, header, rows with their line numbers, and strict value parsers.

Shared by the declaration and payslip modules. UTF-8 with or without a byte-order mark; ``;`` or ``,``
taken from the header row; column names in any order (case and surrounding blanks ignored). Values are
parsed strictly: numbers are ASCII digits with an optional ``.`` or ``,`` decimal separator, nothing
else (no ``１２３``, ``1_000``, ``NaN``, ``1e3``, sign or thousands separator). Every problem names its
line and column; the first 100 are kept.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from gateway.codes import MAX_FINDINGS, finding
from gateway.domain import Finding, Location, Period
from gateway.money import CENT

UTF8_BOM = "\ufeff"
# C0 controls except CR and LF, DEL and the C1 range: never part of a payroll value.
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    """One data row: its first physical line and its values by column name (blanks stripped)."""

    line: int
    values: Mapping[str, str]
    columns: Mapping[str, int]  # column name → 1-based column number

    def at(self, name: str) -> Location:
        return Location(line=self.line, column=self.columns.get(name), field=name)


class FieldError(ValueError):
    """A value that does not parse: the finding code, a French message and what was expected."""

    def __init__(self, code: str, message: str, expected: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.expected = expected


class Fields:
    """The values of one row, parsed column by column; every error is kept, located at its column."""

    def __init__(self, row: Row) -> None:
        self.row = row
        self.errors: list[Finding] = []

    def get(self, name: str, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """The parsed value, or None when the column is empty or its value is wrong (error recorded)."""
        text = self.row.values.get(name, "")
        if not text:
            return None
        try:
            return parse(text, *args, **kwargs)
        except FieldError as exc:
            self.error(name, exc.code, exc.message, exc.expected)
            return None

    def bad(self, name: str) -> bool:
        """The column holds a value that did not parse."""
        return bool(self.errors) and any(f.location.field == name for f in self.errors)

    def error(self, name: str, code: str, message: str, expected: str) -> None:
        self.errors.append(finding(code, message, self.row.at(name), expected))

    def require(self, name: str, value: object) -> None:
        if value is None and not self.bad(name):
            self.error(name, "CSV_VALUE_REQUIRED", f"Colonne « {name} » vide.", f"une valeur dans « {name} »")

    def forbid(self, name: str, why: str) -> None:
        self.error(
            name, "CSV_VALUE_NOT_ALLOWED", f"Valeur non permise dans « {name} » : {why}.", f"« {name} » vide"
        )


def split_header(line: str) -> tuple[str, list[str]]:
    """The separator the header row uses and its normalised column names."""
    line = line.lstrip(UTF8_BOM).rstrip("\r\n")
    semi, comma = line.count(";"), line.count(",")
    sep = ";" if semi >= comma else ","
    names = [n.strip().strip('"').strip().lower() for n in line.split(sep)]
    return sep, names


def header_of(data: bytes) -> tuple[str, list[str]] | None:
    """The header row of CSV bytes, or None when the first line is not text."""
    first = data[: 1 << 14].split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(text.lstrip(UTF8_BOM).rstrip("\r")):
        return None
    return split_header(text)


@dataclass
class Table:
    """A CSV file read against a set of columns: its rows, or the findings that refuse it."""

    rows: list[Row]
    findings: list[Finding]
    total: int = 0

    def add(self, f: Finding) -> None:
        self.total += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(f)


def read_table(
    data: bytes, required: Iterable[str], optional: Iterable[str] = (), *, max_rows: int, max_field: int
) -> Table:
    """Decode, check the header against the columns, and split the rows; every problem located."""
    table = Table([], [])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        table.add(
            finding(
                "CSV_ENCODING_INVALID",
                "Octets invalides pour l'encodage UTF-8.",
                Location(line=line, column=col),
                "texte UTF-8",
            )
        )
        return table
    for m in _CONTROL.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        name = unicodedata.name(m.group(), f"U+{ord(m.group()):04X}")
        table.add(
            finding(
                "CSV_CONTROL_CHARACTER",
                f"Caractère de contrôle interdit ({name}).",
                Location(line=line, column=col),
                "du texte sans caractère de contrôle",
            )
        )
    if table.total:
        return table
    lines = io.StringIO(text, newline="")
    header_line = lines.readline()
    sep, names = split_header(header_line)
    columns = _check_header(table, names, set(required), set(optional))
    if table.total:
        return table
    reader = csv.reader(lines, delimiter=sep, quotechar='"', strict=True)
    end = 1
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num + 1  # line_num counts from after the header
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(table.rows) >= max_rows:
                table.add(
                    finding(
                        "CSV_TOO_MANY_ROWS",
                        f"Plus de {max_rows} lignes de données.",
                        Location(line=start),
                        f"au plus {max_rows} lignes",
                    )
                )
                return table
            if len(fields) != len(names):
                table.add(
                    finding(
                        "CSV_FIELD_COUNT",
                        f"{len(fields)} champs au lieu de {len(names)}.",
                        Location(line=start),
                        f"{len(names)} champs séparés par « {sep} »",
                    )
                )
                continue
            if max(map(len, fields)) > max_field:
                for index, (name, raw) in enumerate(zip(names, fields, strict=True)):
                    if len(raw) > max_field:
                        table.add(
                            finding(
                                "CSV_FIELD_TOO_LONG",
                                f"Champ de {len(raw)} caractères.",
                                Location(line=start, column=index + 1, field=name),
                                f"au plus {max_field} caractères",
                            )
                        )
            values = dict(zip(names, map(str.strip, fields), strict=True))
            table.rows.append(Row(start, values, columns))
    except csv.Error as exc:
        line = reader.line_num + 1
        if "field larger" in str(exc):
            table.add(
                finding(
                    "CSV_FIELD_TOO_LONG",
                    "Champ démesurément long.",
                    Location(line=line),
                    f"au plus {max_field} caractères",
                )
            )
        else:
            table.add(
                finding(
                    "CSV_SYNTAX",
                    f"Syntaxe CSV invalide: {exc}.",
                    Location(line=line),
                    "des champs séparés, guillemets appariés",
                )
            )
    if not table.rows and not table.total:
        table.add(
            finding(
                "CSV_NO_ROWS",
                "Aucune ligne de données après l'en-tête.",
                Location(line=2),
                "au moins une ligne",
            )
        )
    return table


def _check_header(table: Table, names: list[str], required: set[str], optional: set[str]) -> dict[str, int]:
    known = required | optional
    columns: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        where = Location(line=1, column=index, field=name)
        if name in columns:
            table.add(
                finding(
                    "CSV_COLUMN_DUPLICATE", f"Colonne « {name} » en double.", where, "chaque colonne une fois"
                )
            )
        elif name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
            table.add(
                finding(
                    "CSV_COLUMN_UNKNOWN",
                    f"Colonne « {name} » inconnue{hint}.",
                    where,
                    "colonnes: " + ", ".join(sorted(known)),
                )
            )
        columns.setdefault(name, index)
    for name in sorted(required - set(columns)):
        table.add(
            finding(
                "CSV_COLUMN_MISSING",
                f"Colonne obligatoire « {name} » absente.",
                Location(line=1, field=name),
                "colonnes obligatoires: " + ", ".join(sorted(required)),
            )
        )
    return columns


# --- Value parsers: each returns the value or raises FieldError ------------------------------------------

_DECIMAL = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?", re.ASCII)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_FR_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", re.ASCII)
_ISO_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_FR_PERIOD = re.compile(r"([0-9]{1,2})/([0-9]{4})", re.ASCII)
_TRUE = {"1", "true", "oui"}
_FALSE = {"0", "false", "non"}
_NAME_SEPARATORS = " '’-"


def decimal(text: str, *, fraction: int = 2, maximum: Decimal, what: str = "nombre") -> Decimal:
    m = _DECIMAL.fullmatch(text)
    expected = (
        f"{what} : chiffres 0-9, séparateur décimal « , » ou « . », {fraction} décimales au plus, "
        f"sans séparateur de milliers, de 0 à {maximum}"
    )
    if not m or (m.group(2) is not None and len(m.group(2)) > fraction):
        raise FieldError("CSV_NUMBER_INVALID", f"Nombre « {_short(text)} » invalide.", expected)
    value = Decimal(m.group(1) + ("." + m.group(2) if m.group(2) else ""))
    if fraction == 2:  # amounts and hours: always to the cent, as the XML reader gives them
        value = value.quantize(CENT)
    if value > maximum:
        raise FieldError("CSV_VALUE_OUT_OF_RANGE", f"Valeur {text} supérieure à {maximum}.", expected)
    return value


def integer(text: str, *, maximum: int) -> int:
    if not text.isascii() or not text.isdigit():
        raise FieldError("CSV_NUMBER_INVALID", f"Nombre entier « {_short(text)} » invalide.", "chiffres 0-9")
    value = int(text)
    if value > maximum:
        raise FieldError(
            "CSV_VALUE_OUT_OF_RANGE", f"Valeur {text} supérieure à {maximum}.", f"de 0 à {maximum}"
        )
    return value


@lru_cache(maxsize=4096)  # the same dates and periods recur on thousands of rows
def day(text: str) -> date:
    expected = "date AAAA-MM-JJ ou JJ/MM/AAAA"
    m = _ISO_DATE.fullmatch(text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    if parts is None and (m := _FR_DATE.fullmatch(text)):
        parts = (m.group(3), m.group(2), m.group(1))
    if parts is None:
        raise FieldError("CSV_DATE_INVALID", f"Date « {_short(text)} » invalide.", expected)
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise FieldError("CSV_DATE_INVALID", f"Date « {_short(text)} » inexistante.", expected) from None


@lru_cache(maxsize=1024)
def period(text: str) -> Period:
    expected = "période AAAA-MM ou MM/AAAA"
    m = _ISO_PERIOD.fullmatch(text)
    parts = (m.group(1), m.group(2)) if m else None
    if parts is None and (m := _FR_PERIOD.fullmatch(text)):
        parts = (m.group(2), m.group(1))
    if parts is None or not 1 <= int(parts[1]) <= 12:
        raise FieldError("CSV_PERIOD_INVALID", f"Période « {_short(text)} » invalide.", expected)
    return Period(int(parts[0]), int(parts[1]))


def boolean(text: str, default: bool) -> bool:
    low = text.lower()
    if not low:
        return default
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise FieldError(
        "CSV_BOOLEAN_INVALID", f"Valeur « {_short(text)} » invalide.", "vide, 0/1, false/true ou non/oui"
    )


def identifier(text: str, low: int, high: int, what: str) -> str:
    if not (text.isascii() and text.isdigit() and low <= len(text) <= high):
        raise FieldError(
            "CSV_IDENTIFIER_INVALID",
            f"{what.capitalize()} « {_short(text)} » invalide.",
            f"{what} : {low} à {high} chiffres",
        )
    return text


def is_name(text: str) -> bool:
    """The XSD ``Name`` pattern: letter runs (any language) joined by spaces, hyphens or apostrophes."""

    def letter(c: str) -> bool:
        return unicodedata.category(c)[0] in "LM"

    return (
        0 < len(text) <= 60
        and letter(text[0])
        and letter(text[-1])
        and all(letter(c) or c in _NAME_SEPARATORS for c in text)
    )


def name(text: str) -> str:
    if not is_name(text):
        raise FieldError(
            "CSV_NAME_INVALID",
            f"Nom « {_short(text)} » invalide.",
            "1 à 60 caractères : lettres, séparées par espace, trait d'union ou apostrophe",
        )
    return text


def label(text: str, maximum: int = 100) -> str:
    if not text or len(text) > maximum:
        raise FieldError(
            "CSV_NAME_INVALID",
            f"Libellé « {_short(text)} » invalide.",
            f"libellé de 1 à {maximum} caractères",
        )
    return text


def code(text: str, allowed: Iterable[str], what: str) -> str:
    options = list(allowed)
    if text not in options:
        raise FieldError(
            "CSV_CODE_INVALID",
            f"{what.capitalize()} « {_short(text)} » inconnu.",
            f"{what} : " + ", ".join(options),
        )
    return text


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"
