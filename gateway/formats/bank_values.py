"""Values out of an ISO 20022 message already validated against its XSD: texts, amounts, dates, reasons.

The XSD has checked the form of every value; what is left to refuse is what Python cannot represent
(a year 0, 30 February in a lexically valid date), with the line. Amounts are ``Decimal`` from the text,
never through a float. Dates keep what the bank wrote (a booking date-time gives its own date part, not
converted to another time zone).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from lxml import etree

from gateway.errors import InputError
from gateway.formats.bank_reasons import reason_label
from gateway.formats.xsd import xpath_of

_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?\s*")
_DATETIME = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?\s*"
)


class Reader:
    """Finds the elements of one message (its namespace) and reads their values, locating every refusal."""

    def __init__(self, namespace: str, source: str | None) -> None:
        self.namespace = namespace
        self.source = source
        self._paths: dict[str, str] = {}

    def _path(self, path: str) -> str:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = "/".join(f"{{{self.namespace}}}{step}" for step in path.split("/"))
        return found

    def error(self, message: str, elem: etree._Element) -> InputError:
        return InputError(f"{message} ({xpath_of(elem)})", line=elem.sourceline, source=self.source)

    def find(self, elem: etree._Element, path: str) -> etree._Element | None:
        return elem.find(self._path(path))

    def children(self, elem: etree._Element, path: str) -> list[etree._Element]:
        return elem.findall(self._path(path))

    def child(self, elem: etree._Element, path: str) -> etree._Element:
        """A child the schema requires: its absence means a schema we do not read as we think."""
        found = self.find(elem, path)
        if found is None:
            raise self.error(f"élément « {path} » absent", elem)
        return found

    def text(self, elem: etree._Element, path: str) -> str:
        """The stripped text at ``path``; "" when absent."""
        found = self.find(elem, path)
        return "" if found is None else (found.text or "").strip()

    def amount(self, elem: etree._Element | None) -> Decimal | None:
        if elem is None:
            return None
        text = (elem.text or "").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value < 0:
            raise self.error(f"montant invalide « {text} »", elem)
        return value

    def iso_date(self, elem: etree._Element, path: str) -> date | None:
        """An ISODate at ``path`` (its time zone, if written, dropped); None when absent."""
        found = self.find(elem, path)
        if found is None:
            return None
        text = found.text or ""
        m = _DATE.fullmatch(text)
        try:
            if m:
                return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
        raise self.error(f"date invalide « {text.strip()} » (attendu AAAA-MM-JJ)", found)

    def iso_datetime(self, elem: etree._Element, path: str) -> datetime | None:
        """An ISODateTime at ``path``: aware when a time zone is written, naive otherwise; None when absent."""
        found = self.find(elem, path)
        if found is None:
            return None
        text = found.text or ""
        m = _DATETIME.fullmatch(text)
        try:
            if m:
                return _datetime(m)
        except ValueError:
            pass
        raise self.error(f"date et heure invalides « {text.strip()} » (attendu AAAA-MM-JJThh:mm:ss)", found)

    def date_part(self, elem: etree._Element, path: str) -> date | None:
        """The date part of an ISODateTime at ``path``, as written; None when absent."""
        moment = self.iso_datetime(elem, path)
        return None if moment is None else moment.date()


def _datetime(m: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second = (int(m[i]) for i in range(1, 7))
    micro = int((m[7] or "0")[:6].ljust(6, "0"))
    zone = m[8]
    tz: timezone | None = None
    if zone == "Z":
        tz = UTC
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    if hour == 24 and minute == second == micro == 0:  # xs:dateTime's end of day: the next midnight
        return datetime(year, month, day, tzinfo=tz) + timedelta(days=1)
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def reason_of(elem: etree._Element, read: Reader, holder: str = "StsRsnInf") -> tuple[str | None, str] | None:
    """The first reason given in ``holder`` children of ``elem`` (or in ``elem`` itself if ``holder`` is "").

    (ISO code, its French label) for ``Rsn/Cd``; (None, « motif propriétaire … ») for ``Rsn/Prtry``;
    None when no reason is given.
    """
    holders = read.children(elem, holder) if holder else [elem]
    for info in holders:
        rsn = read.find(info, "Rsn")
        if rsn is None:
            continue
        code = read.text(rsn, "Cd")
        if code:
            return code, reason_label(code)
        proprietary = read.text(rsn, "Prtry")
        if proprietary:
            return None, f"motif propriétaire « {proprietary} »"
    return None
