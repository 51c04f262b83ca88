"""Readers of the Caisses' registers fed to ``gateway employee import`` and ``gateway permit import``.

CSV, UTF-8 (byte-order mark accepted), ``;`` or ``,`` taken from the header row, one header row.
Every row is checked before anything is written; a bad row raises InputError with its line and column.

employees: ``registration;last_name;first_name;birth_date[;employer;start;end]``
permits:   ``employer;registration;valid_from[;valid_to]``
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from gateway.errors import InputError
from gateway.store.repo import EmployeeRow, PermitRow

T = TypeVar("T")
_DIGITS = re.compile(r"^[0-9]+$")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")


def _date(text: str, line: int, column: str, required: bool = True) -> date | None:
    text = text.strip()
    if not text:
        if required:
            raise InputError("date manquante", line=line, column=column)
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise InputError(f"date invalide {text!r} (attendu AAAA-MM-JJ ou JJ/MM/AAAA)", line=line, column=column)


def _number(text: str, low: int, high: int, line: int, column: str) -> str:
    text = text.strip()
    if not (text.isascii() and _DIGITS.match(text) and low <= len(text) <= high):
        raise InputError(f"{text!r}: attendu {low} à {high} chiffres", line=line, column=column)
    return text


def _name(text: str, line: int, column: str) -> str:
    text = text.strip()
    if not (1 <= len(text) <= 60 and _NAME.match(text)):
        raise InputError(f"nom invalide {text!r}", line=line, column=column)
    return text


def _rows(data: bytes, required: list[str], optional: list[str], build: Callable[[dict[str, str], int], T]) -> list[T]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"le fichier n'est pas en UTF-8 (octet {exc.start})") from None
    if "\x00" in text:
        raise InputError("caractère NUL dans le fichier")
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("fichier vide") from None
    except csv.Error as exc:
        raise InputError(str(exc), line=1) from None
    known = required + optional
    for col in header:
        if col not in known:
            raise InputError(f"colonne inconnue « {col} » (colonnes possibles: {', '.join(known)})", line=1)
    for col in required:
        if col not in header:
            raise InputError(f"colonne obligatoire « {col} » absente", line=1)
    if len(set(header)) != len(header):
        raise InputError("colonne en double dans l'en-tête", line=1)
    out: list[T] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(f"{len(cells)} valeurs pour {len(header)} colonnes", line=line)
            out.append(build(dict(zip(header, cells, strict=True)), line))
    except csv.Error as exc:
        raise InputError(str(exc), line=reader.line_num) from None
    return out


def read_employees(data: bytes) -> list[EmployeeRow]:
    def build(row: dict[str, str], line: int) -> EmployeeRow:
        employer = row.get("employer", "").strip()
        return EmployeeRow(
            registration=_number(row["registration"], 6, 9, line, "registration"),
            last_name=_name(row["last_name"], line, "last_name"),
            first_name=_name(row["first_name"], line, "first_name"),
            birth_date=_date(row["birth_date"], line, "birth_date"),
            employer=_number(employer, 5, 9, line, "employer") if employer else None,
            start=_date(row.get("start", ""), line, "start", required=bool(employer)),
            end=_date(row.get("end", ""), line, "end", required=False),
            line=line,
        )

    rows = _rows(data, ["registration", "last_name", "first_name", "birth_date"], ["employer", "start", "end"], build)
    seen: dict[str, int] = {}
    for r in rows:
        if r.start and r.end and r.end < r.start:
            raise InputError("la fin d'emploi précède le début", line=r.line, column="end")
        key = f"{r.registration}/{r.employer}/{r.start}"
        if key in seen:
            raise InputError(f"ligne en double (déjà ligne {seen[key]})", line=r.line, column="registration")
        seen[key] = r.line
    return rows


def read_permits(data: bytes) -> list[PermitRow]:
    def build(row: dict[str, str], line: int) -> PermitRow:
        valid_from = _date(row["valid_from"], line, "valid_from")
        assert valid_from is not None
        valid_to = _date(row.get("valid_to", ""), line, "valid_to", required=False)
        if valid_to and valid_to < valid_from:
            raise InputError("la fin de validité précède le début", line=line, column="valid_to")
        return PermitRow(
            employer=_number(row["employer"], 5, 9, line, "employer"),
            registration=_number(row["registration"], 6, 9, line, "registration"),
            valid_from=valid_from, valid_to=valid_to, line=line,
        )

    return _rows(data, ["employer", "registration", "valid_from"], ["valid_to"], build)
