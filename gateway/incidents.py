"""Payment incidents: the bank's reports on collections (pain.002 status report, camt.054 notification)
applied to the employers' accounts.

A rejected or returned collection is reversed on its employer's account (the amount is owed again), the
employer is flagged « incident de paiement » (no more direct debit, statements on paper, until an operator
clears it) and its subscriber gets an e-mail. A file imported before (same bytes, or same message id) is
reported and applies nothing; an EndToEndId the gateway never exported, a collection already reversed or an
amount that differs from the collection's are reported and left alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from gateway import notify
from gateway.config import Config
from gateway.formats.bank_returns import read_bank_report
from gateway.render.text import fr_amount, fr_period
from gateway.store.account import AccountStore, CollectionRow
from gateway.store.jobs import JobsStore
from gateway.store.repo import Store


@dataclass
class Applied:
    end_to_end_id: str
    employer: str
    period: str
    amount: Decimal
    status: str  # rejected | returned
    reason_code: str | None
    reason: str


@dataclass
class ImportReport:
    name: str
    kind: str
    message_id: str
    applied: list[Applied] = field(default_factory=list)
    booked: list[str] = field(default_factory=list)  # accepted, booked or pending at the bank: nothing to do
    unknown: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    duplicate_file: bool = False

    @property
    def problems(self) -> bool:
        return bool(self.unknown or self.already or self.mismatched or self.duplicate_file)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.name, "kind": self.kind, "message_id": self.message_id,
                "duplicate_file": self.duplicate_file, "booked": self.booked, "unknown": self.unknown,
                "already_applied": self.already, "mismatched": self.mismatched,
                "applied": [{"end_to_end_id": a.end_to_end_id, "employer": a.employer, "period": a.period,
                             "amount": str(a.amount), "status": a.status, "reason_code": a.reason_code,
                             "reason": a.reason} for a in self.applied]}

    def describe(self) -> str:
        head = f"{self.name}: {self.kind} {self.message_id}"
        if self.duplicate_file:
            return f"{head} — déjà importé, rien n'est appliqué une seconde fois"
        out = [head]
        out += [f"  {'rejeté' if a.status == 'rejected' else 'retourné'} {a.end_to_end_id} employeur {a.employer} "
                f"{a.period} {a.amount} EUR — {a.reason_code or ''} {a.reason}".rstrip() for a in self.applied]
        out += [f"  EndToEndId inconnu (jamais exporté par la passerelle) : {e}" for e in self.unknown]
        out += [f"  déjà appliqué : {e}" for e in self.already]
        out += [f"  montant différent, non appliqué : {m}" for m in self.mismatched]
        out.append(f"{len(self.applied)} prélèvement(s) annulé(s), {len(self.booked)} confirmé(s) sans suite, "
                   f"{len(self.unknown) + len(self.already) + len(self.mismatched)} signalé(s)")
        return "\n".join(out)


def import_report(config: Config, store: Store, data: bytes, name: str, now: datetime) -> ImportReport:
    """Read ``data`` and apply what it reports, once. InputError when the file is not a valid report."""
    bank = read_bank_report(data, name)
    sha256 = hashlib.sha256(data).hexdigest()
    account = AccountStore(store)
    out = ImportReport(name, bank.kind, bank.message_id)
    if account.report_known(bank.kind, bank.message_id, sha256):
        out.duplicate_file = True
        return out
    reversals: list[tuple[CollectionRow, str, str | None, str]] = []
    seen: set[str] = set()
    items: list[tuple[str, str, Decimal | None, str | None, str]] = [
        (i.end_to_end_id, i.status, i.amount, i.reason_code, i.reason) for i in bank.items]
    if bank.group_status == "RJCT" or bank.rejected_blocks:  # the batch refused whole: its collections unnamed
        named = {i.end_to_end_id for i in bank.items}
        batch = account.batch_collections(bank.original_message_id or "")
        if not batch:
            out.unknown.append(f"lot {bank.original_message_id or '?'}")
        items += [(c.end_to_end_id, "rejected", c.amount, bank.group_reason_code, bank.group_reason)
                  for c in batch if c.end_to_end_id not in named]
    for e2e, status, amount, code, reason in items:
        if status not in ("rejected", "returned"):
            out.booked.append(e2e)
            continue
        c = account.collection(e2e) if e2e else None
        if c is None:
            out.unknown.append(e2e or "(EndToEndId absent)")
            continue
        if c.status != "exported" or c.end_to_end_id in seen:
            out.already.append(e2e)
            continue
        if amount is not None and amount != c.amount:
            out.mismatched.append(f"{c.end_to_end_id}: {amount} EUR annoncés, {c.amount} EUR prélevés")
            continue
        seen.add(c.end_to_end_id)
        reversals.append((c, status, code, reason))
        out.applied.append(Applied(c.end_to_end_id, c.employer, c.period, c.amount, status, code, reason))
    account.apply_report(kind=bank.kind, message_id=bank.message_id, sha256=sha256, name=name, at=now,
                         reversals=reversals, summary=out.to_json())
    for a in out.applied:
        _tell(config, store, a, now)
    if out.applied:
        notify.send_pending(config, store, now)
    return out


def _tell(config: Config, store: Store, a: Applied, now: datetime) -> None:
    """The e-mail to the subscriber that declares for the employer."""
    jobs = JobsStore(store)
    client = jobs.client(a.employer, now.astimezone(config.tz).date())
    email = jobs.subscriber_info(client.subscriber).email
    what = "rejeté par la banque" if a.status == "rejected" else "retourné par la banque"
    body = (f"Bonjour,\n\nLe prélèvement {a.end_to_end_id} des cotisations de {fr_period(a.period)} de "
            f"{client.number} — {client.name} ({fr_amount(a.amount)}) a été {what}"
            f"{f', motif : {a.reason} ({a.reason_code})' if a.reason_code else ''}.\n\n"
            "Ce montant reste dû. Un incident de paiement est enregistré : le prélèvement automatique est "
            "suspendu et les relevés de cotisations vous seront adressés sur papier jusqu'à sa régularisation.\n\n"
            "Pour régulariser : Service Recouvrement, +377 93 15 49 62, recouvrement@caisses-sociales.mc")
    notify.queue(store, dedup_key=f"incident:{a.end_to_end_id}", subscriber_id=client.subscriber_id,
                 recipient=email, subject=f"Incident de paiement — {client.number} — {fr_period(a.period)}",
                 body=body, now=now)
