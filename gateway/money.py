"""Decimal helpers and THE rounding rule of the gateway.

Money is ``Decimal`` from the moment it is read; it is rounded here and nowhere else.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
EURO = Decimal(1)
ZERO = Decimal("0.00")


def round_cents(amount: Decimal) -> Decimal:
    """Half-up to the cent: the rule for every contribution line (reference: no official rule, half-up)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_euros(amount: Decimal) -> Decimal:
    """Half-up to the euro: unemployment insurance at the employer's declaration level (CSM [cot])."""
    return amount.quantize(EURO, rounding=ROUND_HALF_UP).quantize(CENT)


def parse_amount(text: str) -> Decimal:
    """ASCII digits with an optional ``.`` or ``,`` and at most two fraction digits; raises ValueError."""
    if not text or not text.isascii():
        raise ValueError(f"montant invalide: {text!r}")
    normal = text.replace(",", ".", 1)
    whole, _, frac = normal.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or (normal.endswith(".")):
        raise ValueError(f"montant invalide: {text!r}")
    try:
        return Decimal(normal)
    except InvalidOperation as exc:  # pragma: no cover - guarded above
        raise ValueError(f"montant invalide: {text!r}") from exc


def format_eur(amount: Decimal) -> str:
    """French display: ``12 345,67`` (narrow no-break space as thousands separator)."""
    q = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    groups = []
    while whole:
        groups.append(whole[-3:])
        whole = whole[:-3]
    return sign + "\u202f".join(reversed(groups)) + "," + frac


def format_rate(rate: Decimal) -> str:
    """A rate stored as a fraction (0.0685) shown as a French percentage (``6,85 %``)."""
    pct = (rate * 100).normalize()
    text = f"{pct:f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.ljust(2, "0")
    else:
        whole, frac = text, "00"
    return f"{whole},{frac}\u00a0%"
