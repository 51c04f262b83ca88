"""SEPA: IBAN/BIC validation (schwifty) for returned mandates, and the pain.008 direct-debit batch
(sepaxml, validated against its bundled XSD) from the stored contributions of employers on direct debit.

The one module importing schwifty and sepaxml; their errors become :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.config import Config
from gateway.domain import Period
from gateway.errors import InputError
from gateway.jobs.base import debit_date
from gateway.rules.contributions import fund_totals
from gateway.store.jobs import JobsStore
from gateway.store.repo import Store

SCHEMA = "pain.008.001.02"


def check_iban(text: str) -> str:
    """The IBAN in its compact form, or InputError saying what is wrong."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(text).compact)
    except (SchwiftyException, ValueError) as exc:
        raise InputError(f"IBAN invalide: {exc}") from None


def check_bic(text: str) -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        return str(BIC(text).compact)
    except (SchwiftyException, ValueError) as exc:
        raise InputError(f"BIC invalide: {exc}") from None


def set_direct_debit(store: Store, employer: str, iban: str, bic: str, signed_on: date) -> str:
    """Record a returned, signed mandate: the employer is on direct debit from now on. Returns its reference."""
    from gateway.jobs.mandates import mandate_reference

    return JobsStore(store).set_direct_debit(employer, check_iban(iban), check_bic(bic), signed_on,
                                             mandate_reference(employer))


@dataclass(frozen=True)
class Batch:
    xml: bytes
    payments: int
    total: Decimal
    collection_date: date


def export(config: Config, store: Store, period: Period, today: date) -> Batch:
    """The pain.008 batch of ``period``: one payment per employer on direct debit with contributions."""
    from sepaxml import SepaDD

    s = config.sepa
    if not (s.creditor_iban and s.creditor_bic):
        raise InputError("sepa.creditor_iban et sepa.creditor_bic doivent être configurés pour l'export pain.008")
    jobs = JobsStore(store)
    collection = debit_date(config, period, today)
    dd = SepaDD({"name": s.creditor_name, "IBAN": check_iban(s.creditor_iban), "BIC": check_bic(s.creditor_bic),
                 "batch": True, "creditor_id": s.creditor_id, "currency": "EUR", "instrument": "CORE"},
                schema=SCHEMA, clean=True)
    count, total = 0, Decimal("0.00")
    for c in jobs.clients(period.last_day):
        if not (c.direct_debit and c.iban and c.bic and c.mandate_reference and c.mandate_signed_on):
            continue
        lines, _refs = jobs.contribution_lines(c.employer_id, period)
        amount = sum((f.employer + f.employee for f in fund_totals(lines)), Decimal("0.00"))
        if amount <= 0:
            continue
        dd.add_payment({
            "name": c.name[:70], "IBAN": c.iban, "BIC": c.bic, "amount": int(amount * 100),  # cents, exact
            "type": "RCUR", "collection_date": collection, "mandate_id": c.mandate_reference,
            "mandate_date": c.mandate_signed_on, "description": f"Cotisations CSM {period} employeur {c.number}",
            "endtoend_id": f"CSM{c.number}{period.year}{period.month:02d}",
        })
        count += 1
        total += amount
    if not count:
        raise InputError(f"aucun prélèvement à émettre pour {period}")
    try:
        xml = dd.export(validate=True)
    except Exception as exc:  # sepaxml raises ValidationError / lxml errors: a batch we cannot emit
        raise InputError(f"lot pain.008 invalide: {exc}") from exc
    return Batch(xml, count, total, collection)
