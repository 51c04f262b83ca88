"""Text for documents: cleaning what came from a file, and the French display of dates, periods and hours.

No ReportLab here, so the XML acknowledgement can use it without loading the PDF toolkit.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from gateway.money import format_eur, round_cents

MONACO = ZoneInfo("Europe/Monaco")

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

# Characters XML 1.0 cannot carry and a PDF cannot show: C0/C1 controls (tab, LF, CR aside),
# lone surrogates (from surrogateescape decoding) and the two non-characters.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE = re.compile(r"[\t\r\n]+")
# Whatever one_line may change besides the normalisation: the characters above (tab, LF and CR among them)
# and the French quotes.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff«»]")


def clean(value: object) -> str:
    """Any value as text safe for XML 1.0: NFC (``Nguyễn`` typed with combining marks is shown composed),
    and every control character replaced by U+FFFD so a hostile byte shows up instead of vanishing."""
    if type(value) is str and (value.isascii() and value.isprintable() or
                               not _UNSHOWABLE.search(value) and unicodedata.is_normalized("NFC", value)):
        return value  # nothing to do: most values
    text = unicodedata.normalize("NFC", str(value))
    return _UNSHOWABLE.sub("\ufffd", text)


def one_line(value: object) -> str:
    """``clean``, tabs/line breaks folded into one space, and no-break spaces inside French quotes so a
    line never starts with ``»``: for PDF cells and headers."""
    if type(value) is str and (value.isascii() and value.isprintable() or
                               not _NOT_ONE_LINE.search(value) and unicodedata.is_normalized("NFC", value)):
        return value  # no control, break or quote, and composed already
    text = _WHITESPACE.sub(" ", clean(value))
    return text.replace("« ", "«\u00a0").replace(" »", "\u00a0»")


def fr_date(day: date | None) -> str:
    """``21/11/2026``; a dash when unknown."""
    return day.strftime("%d/%m/%Y") if day else "—"


def fr_datetime(moment: datetime) -> str:
    """``21 novembre 2026 à 09:15:00`` in Monaco time (an aware datetime is converted; a naive one is
    taken as already Monaco time)."""
    local = moment.astimezone(MONACO) if moment.tzinfo else moment
    return f"{local.day} {MONTHS_FR[local.month - 1]} {local.year} à {local:%H:%M:%S}"


def fr_period(period: object) -> str:
    """``2026-11`` → ``novembre 2026``; anything else is shown as it is."""
    text = str(period)
    m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    return f"{MONTHS_FR[int(m.group(2)) - 1]} {m.group(1)}" if m else one_line(text)


def fr_hours(hours: Decimal | None) -> str:
    """``151,67 h``; a dash when unknown."""
    return "—" if hours is None else f"{format_eur(hours)}\u00a0h"


def fr_amount(amount: Decimal | None) -> str:
    """``12 345,67 €``; a dash when unknown."""
    return "—" if amount is None else f"{format_eur(amount)}\u00a0€"


def fr_change(amount: Decimal) -> str:
    """A difference with its sign always shown: ``+1 234,56 €``, ``−1 234,56 €`` (a true minus sign, U+2212,
    not the hyphen of :func:`fr_amount`), ``0,00 €``."""
    shown = round_cents(amount)  # the sign of what is shown: -0.001 is ``0,00 €``
    text = fr_amount(abs(shown))
    return text if not shown else ("+" if shown > 0 else "\u2212") + text


def fr_decimal(value: Decimal | None) -> str:
    """A base, a rate or a multiplier as a French number, never rounded: ``19,50``, ``24,375``, ``1,25``."""
    if value is None:
        return ""
    exponent = value.normalize().as_tuple().exponent  # 19.50 × 1.25 = 24.3750: show 24,375
    digits = max(2, -exponent if isinstance(exponent, int) else 2)
    text = f"{abs(value):,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return ("-" if value < 0 else "") + text


def fr_int(number: int) -> str:
    """``12 345`` with a narrow no-break space between thousands."""
    return f"{number:,}".replace(",", "\u202f")
