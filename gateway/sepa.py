"""SEPA: IBAN/BIC validation (schwifty) for returned mandates, and the pain.008 direct-debit batch
(sepaxml, validated against its bundled XSD) from the accounts of the employers on direct debit.

The one module importing schwifty and sepaxml; their errors become :class:`InputError`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from gateway.config import Config
from gateway.domain import Period
from gateway.errors import InputError
from gateway.jobs.base import debit_date
from gateway.rules.account import allocate, balance
from gateway.store.account import AccountStore, Debtor
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
class Collection:
    """One direct debit of a batch: the employer, its unique EndToEndId, the amount (what its account owes)."""

    employer: str
    name: str
    end_to_end_id: str
    amount: Decimal
    shares: tuple[tuple[str, Decimal], ...] = ()  # (period settled, amount): what each period's balance was


@dataclass(frozen=True)
class Batch:
    """A pain.008 batch: new (``again`` False) or the last one of the period given back unchanged."""

    xml: bytes
    message_id: str
    payments: int
    total: Decimal
    collection_date: date
    collections: tuple[Collection, ...] = ()
    again: bool = False
    notes: tuple[str, ...] = ()  # employers left out, and why


def _address_lines(address: str) -> list[str]:
    """The debtor's postal address as at most two lines of 70 characters in the SEPA character set
    (pain.008.001.02, EPC rules: accents transliterated as sepaxml does for the names)."""
    from text_unidecode import unidecode

    address = unidecode(address)
    parts = [p.strip() for p in address.replace("\n", ",").split(",") if p.strip()]
    if len(parts) > 2:
        parts = [parts[0], ", ".join(parts[1:])]
    return [p[:70] for p in parts]


def _creditor(config: Config) -> tuple[str, str, str]:
    """(IBAN, BIC, creditor identifier), or InputError naming the setting to fill."""
    from gateway.config import creditor_id_missing

    s = config.sepa
    if not (s.creditor_iban and s.creditor_bic):
        raise InputError("sepa.creditor_iban et sepa.creditor_bic doivent être configurés pour l'export pain.008")
    missing = creditor_id_missing(config)
    if missing:
        raise InputError(f"export pain.008 impossible: {missing}")
    return check_iban(s.creditor_iban), check_bic(s.creditor_bic), s.creditor_id


def plan(store: Store, period: Period) -> tuple[list[tuple[Debtor, Collection]], list[str]]:
    """What a batch for ``period`` would collect now: per employer on direct debit, the balance of its
    account up to the period when positive, under a new EndToEndId; and who is left out, and why."""
    account = AccountStore(store)
    planned, notes = [], []
    for d in account.debtors():
        entries = account.entries(d.employer_id)
        owed = balance(entries, up_to=str(period))
        if d.incident_at is not None:
            if owed > 0:
                notes.append(f"{d.number}: incident de paiement du {d.incident_at:%d/%m/%Y}, prélèvement suspendu "
                             f"({owed} EUR dus; `gateway employer clear-incident {d.number}` pour le reprendre)")
            continue
        if owed < 0:
            notes.append(f"{d.number}: crédit de {-owed} EUR, reporté (jamais prélevé)")
        if owed <= 0:
            continue
        if not _address_lines(d.address):
            notes.append(f"{d.number}: adresse postale manquante, exigée pour un débiteur hors EEE — non prélevé")
            continue
        n = account.collections_count(d.employer_id, str(period)) + 1
        e2e = f"CSM{d.number}-{period.year}{period.month:02d}-{n}"
        planned.append((d, Collection(d.number, d.name, e2e, owed, allocate(entries, str(period)))))
    return planned, notes


def export(config: Config, store: Store, period: Period, today: date, now: datetime | None = None, *,
           dry_run: bool = False) -> Batch:
    """The pain.008 batch of ``period``, from the employers' accounts.

    Only what is not yet collected is in it, each collection an entry of the account under its own
    EndToEndId, recorded with the batch's bytes in one transaction. When nothing is left to collect, the
    period's last batch is given back as it was (same MsgId, same bytes): exporting again never collects
    twice. A credit is never debited: it stays on the account for the next statement.
    """
    from sepaxml import SepaDD

    iban, bic, creditor_id = _creditor(config)
    planned, notes = plan(store, period)
    collection = debit_date(config, period, today)
    if not planned:
        last = AccountStore(store).latest_batch(str(period))
        if last is None:
            raise InputError(f"aucun prélèvement à émettre pour {period}" + "".join(f"\n  {n}" for n in notes))
        return Batch(last.xml, last.message_id, last.payments, last.total, last.collection_date, again=True,
                     notes=tuple(notes))
    collections = tuple(c for _, c in planned)
    total = sum((c.amount for c in collections), Decimal("0.00"))
    if dry_run:
        return Batch(b"", "", len(collections), total, collection, collections, notes=tuple(notes))
    s = config.sepa
    dd = SepaDD({"name": s.creditor_name, "IBAN": iban, "BIC": bic, "batch": True, "creditor_id": creditor_id,
                 "currency": "EUR", "instrument": "CORE"}, schema=SCHEMA, clean=True)
    for d, c in planned:
        dd.add_payment({
            "name": d.name[:70], "IBAN": d.iban, "BIC": d.bic, "amount": int(c.amount * 100),  # cents, exact
            "type": "RCUR", "collection_date": collection, "mandate_id": d.mandate_reference,
            "mandate_date": d.mandate_signed_on, "description": f"Cotisations CSM {period} employeur {d.number}",
            "endtoend_id": c.end_to_end_id, "address": {"country": "MC", "lines": _address_lines(d.address)},
        })
    try:
        xml = dd.export(validate=True)
    except Exception as exc:  # sepaxml raises ValidationError / lxml errors: a batch we cannot emit
        raise InputError(f"lot pain.008 invalide: {exc}") from exc
    AccountStore(store).record_batch(
        message_id=dd.msg_id, period=str(period), collection_date=collection, xml=xml,
        sha256=hashlib.sha256(xml).hexdigest(), at=now or datetime.now(UTC),
        collections=[{"employer_id": d.employer_id, "end_to_end_id": c.end_to_end_id, "amount": c.amount,
                      "mandate_reference": d.mandate_reference, "shares": c.shares} for d, c in planned])
    return Batch(xml, dd.msg_id, len(collections), total, collection, collections, notes=tuple(notes))
