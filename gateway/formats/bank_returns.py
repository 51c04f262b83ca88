"""The bank's reports on our SEPA direct debits: pain.002 (payment status report) and camt.054 (notification).

:func:`read_bank_report` takes the untrusted bytes the bank sent, parses them with :mod:`.safexml`,
picks the message from the root's namespace, validates it against the official ISO 20022 XSD shipped in
``schemas/iso20022/`` and returns one :class:`ReturnedCollection` per transaction, keyed by the
EndToEndId of our pain.008 export. Anything wrong raises :class:`InputError` with a French message and
the line. Nothing here applies a return: matching and the account are the caller's.

What a transaction says, by message:

- pain.002: ``rejected`` (TxSts RJCT), ``accepted`` (ACCP, ACSC, ACSP, ACTC, ACWC), ``pending`` (PDNG).
  A transaction without TxSts takes its payment block's status (PmtInfSts), else the group's (GrpSts);
  without a reason of its own, a rejection takes the block's reason, else the group's.
- camt.054: ``returned`` (return information, RtrInf), else ``booked`` (a collection credited: nothing to
  apply); an entry whose status is not BOOK (PDNG, INFO) gives ``pending``, with its reason if any. An
  entry without transaction details (a batch booked as one sum) names no collection and gives no item; a
  return always has details, since its reason (RtrInf) is one of them.

Only the versions whose official XSD is shipped are read (:data:`SUPPORTED`); another version of the same
message is refused with a message naming those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from gateway.domain import Finding
from gateway.errors import InputError
from gateway.formats import safexml, xsd
from gateway.formats.bank_values import Reader, reason_of
from gateway.formats.sniff import Limits

ISO_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
# message version → (kind, the message element under Document)
SUPPORTED = {
    "pain.002.001.03": ("pain.002", "CstmrPmtStsRpt"),
    "camt.054.001.02": ("camt.054", "BkToCstmrDbtCdtNtfctn"),
    "camt.054.001.08": ("camt.054", "BkToCstmrDbtCdtNtfctn"),
}
MAX_BYTES = Limits().max_file_bytes

TX_STATUS = {
    "RJCT": "rejected",
    "ACCP": "accepted",
    "ACSC": "accepted",
    "ACSP": "accepted",
    "ACTC": "accepted",
    "ACWC": "accepted",
    "PDNG": "pending",
}


@dataclass(frozen=True)
class ReturnedCollection:
    """What the bank says of one of our collections (one transaction of a pain.002 or camt.054).

    ``end_to_end_id`` is "" when the bank gave none (the caller cannot match it: it reports it).
    ``reason_code`` is the ISO code (AM04…), None without one or for a bank's proprietary reason (whose
    text is then in ``reason``). ``on`` is the requested collection date (pain.002) or the booking date
    (camt.054). ``debit_credit`` (CRDT or DBIT) and ``reversal`` are the camt.054 entry's, as sent.
    """

    end_to_end_id: str
    status: str  # "rejected" | "returned" | "booked" | "accepted" | "pending"
    amount: Decimal | None
    currency: str | None
    reason_code: str | None
    reason: str  # French label of the reason code ("" if none)
    on: date | None
    debit_credit: str | None = None
    reversal: bool = False
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BankReport:
    """One report of the bank, read and validated.

    ``group_status`` is the pain.002's GrpSts as sent (RJCT: the whole original message is rejected,
    often with no transaction listed), with its reason in ``group_reason_code``/``group_reason``.
    ``rejected_blocks`` names the payment blocks (OrgnlPmtInfId) rejected as a whole with no transaction
    listed: their collections are rejected too, though ``items`` cannot name them.
    """

    kind: str  # "pain.002" | "camt.054"
    message_id: str
    created_at: datetime | None
    original_message_id: str | None
    items: tuple[ReturnedCollection, ...]
    version: str = ""
    group_status: str | None = None
    group_reason_code: str | None = None
    group_reason: str = ""
    rejected_blocks: tuple[str, ...] = ()


def read_bank_report(data: bytes, name: str = "") -> BankReport:
    """Read a pain.002 or camt.054 the bank sent; InputError (French, with the line) on anything wrong."""
    source = name or None
    if not data.strip():
        raise InputError("fichier vide", source=source)
    if len(data) > MAX_BYTES:
        raise InputError(f"fichier de {len(data)} octets : au plus {MAX_BYTES} octets", source=source)
    parsed = safexml.parse(data)
    if not isinstance(parsed, safexml.Parsed):
        raise _refusal(parsed[0], source)
    root = parsed.root
    version = _version(root, source)
    kind, body = SUPPORTED[version]
    schema = xsd.iso20022_schema(version)
    if not schema.lxml.validate(root):
        findings, total = xsd.explain(schema, root, limit=1)
        raise _refusal(findings[0], source, total, f"non conforme au schéma ISO 20022 {version}: ")
    read = Reader(ISO_PREFIX + version, source)
    message = read.child(root, body)
    return _pain002(message, read, version) if kind == "pain.002" else _camt054(message, read, version)


def _refusal(f: Finding, source: str | None, total: int = 1, prefix: str = "") -> InputError:
    """The InputError of a finding of :mod:`.safexml` or :mod:`.xsd`: its message, place and expectation."""
    message = f.message.rstrip(".")
    text = prefix + (message[:1].lower() + message[1:] if prefix else message)
    if f.location.xpath:
        text += f" ({f.location.xpath})"
    if f.expected:
        text += f" ; attendu : {f.expected}"
    if total > 1:
        text += f" (et {total - 1} autre(s) erreur(s))"
    return InputError(text, line=f.location.line, source=source)


def _version(root: etree._Element, source: str | None) -> str:
    """The supported message version the root names, or InputError naming the supported ones."""
    qname = etree.QName(root)
    namespace, local = qname.namespace or "", qname.localname
    supported = ", ".join(SUPPORTED)
    if namespace.startswith(ISO_PREFIX) and local == "Document":
        version = namespace[len(ISO_PREFIX) :]
        if version in SUPPORTED:
            return version
        if version.startswith(("pain.002.", "camt.054.")):
            raise InputError(
                f"version « {version} » non prise en charge (versions lues : {supported})",
                line=root.sourceline,
                source=source,
            )
        raise InputError(
            f"message ISO 20022 « {version} » non pris en charge : attendu un rapport de statut pain.002 "
            f"ou un avis de débit/crédit camt.054 ({supported})",
            line=root.sourceline,
            source=source,
        )
    shown = f"« {{{namespace}}}{local} »" if namespace else f"« {local} » sans espace de noms"
    raise InputError(
        f"élément racine {shown} : attendu l'élément « Document » d'un message ISO 20022, espace de noms "
        f"{ISO_PREFIX}<version> ({supported})",
        line=root.sourceline,
        source=source,
    )


def _pain002(report: etree._Element, read: Reader, version: str) -> BankReport:
    header = read.child(report, "GrpHdr")
    group = read.child(report, "OrgnlGrpInfAndSts")
    name_id = read.text(group, "OrgnlMsgNmId")
    if name_id.lower().startswith("pain.") and not name_id.lower().startswith("pain.008"):
        raise read.error(
            f"rapport de statut d'un message « {name_id} », et non d'un lot de prélèvements pain.008",
            read.child(group, "OrgnlMsgNmId"),
        )
    group_status = read.text(group, "GrpSts") or None
    group_reason = reason_of(group, read)
    items: list[ReturnedCollection] = []
    rejected_blocks: list[str] = []
    for block in read.children(report, "OrgnlPmtInfAndSts"):
        block_status = read.text(block, "PmtInfSts") or group_status
        block_reason = reason_of(block, read) or group_reason
        transactions = read.children(block, "TxInfAndSts")
        if not transactions and block_status == "RJCT":
            rejected_blocks.append(read.text(block, "OrgnlPmtInfId"))
        for tx in transactions:
            items.append(_status_item(tx, block_status, block_reason, read))
    code, label = group_reason or (None, "")
    return BankReport(
        kind="pain.002",
        message_id=read.text(header, "MsgId"),
        created_at=read.iso_datetime(header, "CreDtTm"),
        original_message_id=read.text(group, "OrgnlMsgId") or None,
        items=tuple(items),
        version=version,
        group_status=group_status,
        group_reason_code=code,
        group_reason=label,
        rejected_blocks=tuple(rejected_blocks),
    )


def _status_item(
    tx: etree._Element, inherited: str | None, inherited_reason: tuple[str | None, str] | None, read: Reader
) -> ReturnedCollection:
    sent = read.text(tx, "TxSts") or inherited or ""
    status = TX_STATUS.get(sent)
    if status is None:
        what = f"statut « {sent} »" if sent else "aucun statut (TxSts, PmtInfSts ni GrpSts)"
        raise read.error(f"{what} pour une transaction : attendu RJCT, PDNG ou ACCP/ACSC/ACSP/ACTC/ACWC", tx)
    reason = reason_of(tx, read) or (inherited_reason if status == "rejected" else None)
    code, label = reason or (None, "")
    ref = read.find(tx, "OrgnlTxRef")
    amount_el = None if ref is None else read.find(ref, "Amt/InstdAmt")
    if amount_el is None and ref is not None:
        amount_el = read.find(ref, "IntrBkSttlmAmt")
    return ReturnedCollection(
        end_to_end_id=read.text(tx, "OrgnlEndToEndId"),
        status=status,
        amount=read.amount(amount_el),
        currency=None if amount_el is None else amount_el.get("Ccy"),
        reason_code=code,
        reason=label,
        on=None if ref is None else read.iso_date(ref, "ReqdColltnDt"),
        line=tx.sourceline,
    )


def _camt054(notification: etree._Element, read: Reader, version: str) -> BankReport:
    header = read.child(notification, "GrpHdr")
    items: list[ReturnedCollection] = []
    for account in read.children(notification, "Ntfctn"):
        for entry in read.children(account, "Ntry"):
            booked = (read.text(entry, "Sts") or read.text(entry, "Sts/Cd")) == "BOOK"
            booking = read.find(entry, "BookgDt")
            on = None if booking is None else read.iso_date(booking, "Dt") or read.date_part(booking, "DtTm")
            transactions = [tx for d in read.children(entry, "NtryDtls") for tx in read.children(d, "TxDtls")]
            for tx in transactions:
                amount_el = read.find(tx, "AmtDtls/TxAmt/Amt")
                if amount_el is None:
                    amount_el = read.find(tx, "Amt")  # camt.054.001.08
                if amount_el is None and len(transactions) == 1:
                    amount_el = read.child(entry, "Amt")
                back = read.find(tx, "RtrInf")
                code, label = (reason_of(back, read, "") if back is not None else None) or (None, "")
                status = "returned" if back is not None else "booked"
                items.append(
                    ReturnedCollection(
                        end_to_end_id=read.text(tx, "Refs/EndToEndId"),
                        status=status if booked else "pending",
                        amount=read.amount(amount_el),
                        currency=None if amount_el is None else amount_el.get("Ccy"),
                        reason_code=code,
                        reason=label,
                        on=on,
                        debit_credit=read.text(tx, "CdtDbtInd") or read.text(entry, "CdtDbtInd") or None,
                        reversal=read.text(entry, "RvslInd") in ("true", "1"),
                        line=tx.sourceline,
                    )
                )
    return BankReport(
        kind="camt.054",
        message_id=read.text(header, "MsgId"),
        created_at=read.iso_datetime(header, "CreDtTm"),
        original_message_id=None,
        items=tuple(items),
        version=version,
    )
