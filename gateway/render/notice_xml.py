"""The correction notice as XML (``urn:csm-gateway:correction-notice:1``), and its check against the bundled XSD.

The same figures as the PDF, from the same :class:`~gateway.rules.account.CorrectionNotice`, element by
element in the order of ``schemas/correction-notice-1.xsd``: elements only (but the employer's number and
the fund's code, attributes), the notes list always present, ``due-on`` only when an amount is due.
Deterministic: the same notice and time give the same bytes. Amounts are written with exactly two decimals
(an amount with more is a bug upstream, not ours to round). Check every notice with
:func:`check_notice_xml` before delivering it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from lxml import etree

from gateway.errors import RenderError
from gateway.money import ZERO
from gateway.render.text import clean
from gateway.render.xml_check import cents, check_xml
from gateway.rules.account import COMPLEMENTARY, RECTIFYING, CorrectionNotice

NAMESPACE = "urn:csm-gateway:correction-notice:1"
SCHEMA_FILE = "correction-notice-1.xsd"
_NS = f"{{{NAMESPACE}}}"


def _child(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _NS + tag)
    if text is not None:
        element.text = clean(text)
    return element


def _time(moment: datetime, what: str, reference: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RenderError(f"avis de correction {reference}: {what} sans fuseau horaire ({moment.isoformat()})")
    return moment.isoformat(timespec="seconds")


def _shares(parent: etree._Element, tag: str, employer: Decimal, employee: Decimal, what: str) -> None:
    element = _child(parent, tag)
    for name, value in (("employer", employer), ("employee", employee), ("total", employer + employee)):
        _child(element, name, cents(value, f"avis de correction: {what}, {tag} {name}"))


def _change(parent: etree._Element, before: tuple[Decimal, Decimal], now: tuple[Decimal, Decimal],
            what: str) -> None:
    """before, now and difference (now − before, share by share)."""
    _shares(parent, "before", *before, what)
    _shares(parent, "now", *now, what)
    _shares(parent, "difference", now[0] - before[0], now[1] - before[1], what)


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def render_notice_xml(notice: CorrectionNotice, *, made_at: datetime) -> bytes:
    """The notice as UTF-8 XML bytes, in the shape of correction-notice-1.xsd."""
    if notice.kind not in (COMPLEMENTARY, RECTIFYING):
        raise RenderError(f"avis de correction {notice.reference}: nature inconnue {notice.kind!r}")
    due_on = notice.due_on if notice.difference > 0 else None  # a credit or nothing more: no date
    if notice.difference > 0 and due_on is None:
        raise RenderError(f"avis de correction {notice.reference}: montant complémentaire dû sans échéance")
    root = etree.Element(_NS + "correction-notice", nsmap={None: NAMESPACE})
    _child(root, "reference", notice.reference)
    _child(root, "original-reference", notice.original_reference)
    _child(root, "kind", notice.kind)
    _child(root, "reason", notice.reason)
    employer = _child(root, "employer")
    employer.set("number", clean(notice.employer))
    _child(employer, "name", notice.employer_name)
    _child(employer, "address", notice.employer_address)
    _child(root, "subscriber", notice.subscriber)
    _child(root, "period", notice.period)
    _child(root, "recorded-at", _time(notice.recorded_at, "heure d'enregistrement", notice.reference))
    _child(root, "made-at", _time(made_at, "heure d'établissement", notice.reference))
    for f in notice.funds:
        fund = _child(root, "fund")
        fund.set("code", clean(f.fund))
        _child(fund, "label", f.label or f.fund)
        _change(fund, (f.before_employer, f.before_employee), (f.now_employer, f.now_employee), f.fund)
    funds = notice.funds
    _change(_child(root, "totals"), (_sum(f.before_employer for f in funds), _sum(f.before_employee for f in funds)),
            (_sum(f.now_employer for f in funds), _sum(f.now_employee for f in funds)), "totaux")
    if due_on is not None:
        _child(root, "due-on", due_on.isoformat())
    _child(root, "direct-debit", "true" if notice.direct_debit else "false")
    notes = _child(root, "notes")
    for note in notice.notes:
        _child(notes, "note", note)
    # lxml writes its own declaration with single quotes; ours is the conventional one.
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def check_notice_xml(data: bytes) -> None:
    """Raise RenderError unless ``data`` is a well-formed correction notice valid against correction-notice-1.xsd."""
    check_xml(data, SCHEMA_FILE, "avis de correction")
