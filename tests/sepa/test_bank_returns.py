"""Reading the bank's reports on our direct debits: pain.002 (status report) and camt.054 (notification).

The fixtures are checked against the official ISO 20022 XSDs directly (lxml, not the code under test), so
a reader that accepts them reads what a bank may really send; hostile and broken files are refused with
an InputError in French that says where.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import InputError
from gateway.formats import xsd
from gateway.formats.bank_reasons import REASONS, reason_label
from gateway.formats.bank_returns import SUPPORTED, BankReport, ReturnedCollection, read_bank_report

DATA = Path(__file__).parent / "data"
ISO = Path(__file__).resolve().parents[2] / "schemas" / "iso20022"
PAIN002 = DATA / "pain002-two-rejected-one-accepted.xml"
CAMT054 = DATA / "camt054-one-return-one-booked.xml"
CAMT054_V08 = DATA / "camt054v08-one-return.xml"
FIXTURES = {PAIN002: "pain.002.001.03", CAMT054: "camt.054.001.02", CAMT054_V08: "camt.054.001.08"}


def _refused(data: bytes, name: str = "rapport.xml") -> InputError:
    with pytest.raises(InputError) as caught:
        read_bank_report(data, name)
    return caught.value


# --- The shipped schemas and the fixtures ---------------------------------------------------------


@pytest.mark.parametrize("fixture", list(FIXTURES), ids=lambda p: p.name)
def test_each_fixture_is_valid_against_the_official_xsd(fixture: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(ISO / f"{FIXTURES[fixture]}.xsd")))
    assert schema.validate(etree.parse(str(fixture))), schema.error_log


def test_every_shipped_xsd_is_supported_and_listed_with_its_sha256_in_the_readme() -> None:
    readme = (ISO / "README.md").read_text(encoding="utf-8")
    shipped = sorted(p.stem for p in ISO.glob("*.xsd"))
    assert shipped == sorted(SUPPORTED)
    for name in shipped:
        data = (ISO / f"{name}.xsd").read_bytes()
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}.xsd`"))
        assert hashlib.sha256(data).hexdigest() in row, f"{name}.xsd changed, or its README row is stale"
        target = re.search(rb'targetNamespace="([^"]+)"', data)
        assert target and target.group(1).decode() == f"urn:iso:std:iso:20022:tech:xsd:{name}"


def test_the_schemas_compile_once_and_are_found_where_the_package_finds_its_own() -> None:
    first = xsd.iso20022_schema("pain.002.001.03")
    assert xsd.iso20022_schema("pain.002.001.03") is first
    assert first.path == xsd.schemas_dir() / "iso20022" / "pain.002.001.03.xsd"


def test_the_package_data_ships_the_iso_schemas() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"schemas/iso20022/*.xsd"' in pyproject


# --- pain.002 -------------------------------------------------------------------------------------


def test_pain002_two_rejected_one_accepted() -> None:
    report = read_bank_report(PAIN002.read_bytes(), PAIN002.name)
    assert isinstance(report, BankReport)
    assert (report.kind, report.version) == ("pain.002", "pain.002.001.03")
    assert report.message_id == "BQMC-PSR-20261127-0042"
    assert report.created_at == datetime(2026, 11, 27, 8, 12, 30, tzinfo=timezone(timedelta(hours=1)))
    assert report.original_message_id == "CSM-SDD-202611"
    assert report.group_status == "PART"
    assert report.items == (
        ReturnedCollection(
            "CSM104512-202611-1", "rejected", Decimal("10652.15"), "EUR", "AM04", "provision insuffisante",
            date(2026, 11, 30),
        ),
        ReturnedCollection(
            "CSM104513-202611-1", "rejected", Decimal("2310.00"), "EUR", "MD01", "absence de mandat",
            date(2026, 11, 30),
        ),
        ReturnedCollection("CSM104514-202611-1", "accepted", Decimal("845.60"), "EUR", None, "", date(2026, 11, 30)),
    )
    assert [item.line for item in report.items] == [21, 52, 69]  # each TxInfAndSts, for the caller's messages


def test_amounts_are_decimals_read_exactly_from_the_text() -> None:
    first = read_bank_report(PAIN002.read_bytes()).items[0]
    assert type(first.amount) is Decimal
    assert str(first.amount) == "10652.15"
    assert sum(i.amount for i in read_bank_report(PAIN002.read_bytes()).items if i.amount) == Decimal("13807.75")


def test_a_transaction_without_status_takes_its_blocks_and_a_rejection_its_blocks_reason() -> None:
    data = PAIN002.read_bytes()
    data = data.replace(b"<PmtInfSts>PART</PmtInfSts>", b"<PmtInfSts>RJCT</PmtInfSts><StsRsnInf><Rsn><Cd>MS03</Cd>"
                        b"</Rsn></StsRsnInf>")
    data = data.replace(b"<TxSts>ACCP</TxSts>", b"")
    third = read_bank_report(data).items[2]
    assert (third.status, third.reason_code, third.reason) == ("rejected", "MS03", "raison non précisée")
    assert read_bank_report(data).items[0].reason_code == "AM04"  # its own reason first


def test_a_group_rejected_as_a_whole_lists_no_transaction_but_says_so() -> None:
    data = re.sub(rb"<OrgnlPmtInfAndSts>.*</OrgnlPmtInfAndSts>", b"", PAIN002.read_bytes(), flags=re.DOTALL)
    data = data.replace(b"<GrpSts>PART</GrpSts>", b"<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn>"
                        b"</StsRsnInf>")
    report = read_bank_report(data)
    assert report.items == ()
    assert (report.group_status, report.group_reason_code, report.group_reason) == (
        "RJCT", "FF01", "format de fichier invalide"
    )


def test_a_payment_block_rejected_without_transactions_is_named() -> None:
    data = re.sub(rb"<TxInfAndSts>.*</TxInfAndSts>", b"", PAIN002.read_bytes(), flags=re.DOTALL)
    data = data.replace(b"<PmtInfSts>PART</PmtInfSts>", b"<PmtInfSts>RJCT</PmtInfSts>")
    report = read_bank_report(data)
    assert report.items == () and report.rejected_blocks == ("CSM-SDD-202611-RCUR",)


def test_pending_and_proprietary_reasons() -> None:
    data = PAIN002.read_bytes().replace(b"<TxSts>ACCP</TxSts>", b"<TxSts>PDNG</TxSts>")
    data = data.replace(b"<Cd>MD01</Cd>", b"<Prtry>X42</Prtry>")
    items = read_bank_report(data).items
    assert items[2].status == "pending"
    assert (items[1].reason_code, items[1].reason) == (None, "motif propriétaire « X42 »")


def test_a_status_report_of_another_message_than_a_direct_debit_batch_is_refused() -> None:
    error = _refused(PAIN002.read_bytes().replace(b"pain.008.001.02", b"pain.001.001.03"))
    assert error.line == 13 and "pain.001.001.03" in str(error) and "pain.008" in str(error)


def test_a_transaction_with_no_status_anywhere_is_refused_where_it_is() -> None:
    data = PAIN002.read_bytes()
    for tag in (b"<GrpSts>PART</GrpSts>", b"<PmtInfSts>PART</PmtInfSts>", b"<TxSts>ACCP</TxSts>"):
        data = data.replace(tag, b"")
    error = _refused(data)
    assert error.line == 69 and "aucun statut" in str(error)


# --- camt.054 -------------------------------------------------------------------------------------


def test_camt054_one_return_one_booked() -> None:
    report = read_bank_report(CAMT054.read_bytes(), CAMT054.name)
    assert (report.kind, report.version, report.message_id) == ("camt.054", "camt.054.001.02", "BQMC-NTF-20261203-0007")
    assert report.created_at == datetime(2026, 12, 3, 6, 30, tzinfo=UTC)
    assert report.original_message_id is None
    booked, returned = report.items
    assert booked == ReturnedCollection(
        "CSM104514-202611-1", "booked", Decimal("845.60"), "EUR", None, "", date(2026, 11, 30), "CRDT", False
    )
    # The booking date-time keeps the date the bank wrote (not converted to another zone).
    assert returned == ReturnedCollection(
        "CSM104512-202611-1", "returned", Decimal("10652.15"), "EUR", "AC04", "compte clôturé", date(2026, 12, 2),
        "DBIT", False,
    )


def test_camt054_version_08_reads_the_transaction_amount_status_code_and_reversal() -> None:
    report = read_bank_report(CAMT054_V08.read_bytes())
    assert report.version == "camt.054.001.08"
    assert report.created_at == datetime(2026, 12, 4, 6, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    (item,) = report.items
    assert (item.end_to_end_id, item.status, item.amount, item.reason_code) == (
        "CSM104513-202611-1", "returned", Decimal("2310.00"), "MD06"
    )
    assert item.reason == "contestation du débiteur (remboursement demandé)"
    assert item.reversal is True and item.on == date(2026, 12, 4)


def test_an_entry_not_yet_booked_is_pending_even_with_a_return() -> None:
    data = CAMT054.read_bytes().replace(b"<Sts>BOOK</Sts>", b"<Sts>PDNG</Sts>")
    assert [i.status for i in read_bank_report(data).items] == ["pending", "pending"]
    assert read_bank_report(data).items[1].reason_code == "AC04"


def test_the_entry_amount_stands_for_its_only_transaction() -> None:
    data = re.sub(rb"<AmtDtls>.*?</AmtDtls>", b"", CAMT054.read_bytes(), flags=re.DOTALL)
    assert [i.amount for i in read_bank_report(data).items] == [Decimal("845.60"), Decimal("10652.15")]


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "said"),
    [
        ("urn:iso:std:iso:20022:tech:xsd:pain.002.001.10", "version « pain.002.001.10 » non prise en charge"),
        ("urn:iso:std:iso:20022:tech:xsd:camt.053.001.02", "« camt.053.001.02 » non pris en charge"),
        ("urn:example:other", "élément racine « {urn:example:other}Document »"),
    ],
)
def test_a_wrong_namespace_is_refused_naming_the_versions_read(namespace: str, said: str) -> None:
    data = PAIN002.read_bytes().replace(b"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03", namespace.encode())
    error = _refused(data)
    assert said in str(error)
    assert error.line == 2 and "pain.002.001.03, camt.054.001.02, camt.054.001.08" in str(error)


def test_malformed_xml_is_refused_with_its_line_and_the_file_name() -> None:
    data = CAMT054.read_bytes().replace(b"</MsgId>", b"</MsgIdd>", 1)
    error = _refused(data, "avis-0007.xml")
    assert error.line == 5 and error.source == "avis-0007.xml"
    assert str(error).startswith("avis-0007.xml, ligne 5: XML mal formé")


@pytest.mark.parametrize(
    ("change", "line", "said"),
    [
        ((b"<TxSts>RJCT</TxSts>", b"<TxSts>REFUSE</TxSts>"), 24, "valeur « REFUSE » invalide pour l'élément « TxSts »"),
        ((b"10652.15", b"10652,15"), 35, "valeur « 10652,15 » invalide pour l'élément « InstdAmt »"),
        ((b"<MsgId>BQMC-PSR-20261127-0042</MsgId>", b""), 6, "attendu : élément « MsgId »"),
        ((b"2026-11-30", b"2026-02-30"), 37, "« 2026-02-30 » invalide pour l'élément « ReqdColltnDt »"),
    ],
)
def test_a_file_failing_the_xsd_is_refused_with_its_line(change: tuple[bytes, bytes], line: int, said: str) -> None:
    error = _refused(PAIN002.read_bytes().replace(*change, 1))
    assert error.line == line
    assert "non conforme au schéma ISO 20022 pain.002.001.03" in str(error) and said in str(error)


def test_a_camt054_failing_its_xsd_is_refused_with_its_line() -> None:
    error = _refused(CAMT054.read_bytes().replace(b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>"))
    assert error.line == 54 and "camt.054.001.02" in str(error) and "« DEBIT »" in str(error)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&lol3;</Document>
"""


def test_a_doctype_and_its_entities_are_refused_by_the_safe_parser(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("AM04-SECRET", encoding="utf-8")
    xxe = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "' + secret.as_uri().encode() + b'">]>\n'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&x;</Document>'
    )
    for data in (BILLION_LAUGHS, xxe):
        error = _refused(data)
        assert error.line == 2 and "DOCTYPE interdite" in str(error)
        assert "SECRET" not in str(error)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "fichier vide"),
        (b"  \n", "fichier vide"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "compressé (gzip)"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><Document/>', "ISO-8859-1"),
        (b"\x00\x01binary", "Octet nul"),
        (b"CSM104512-202611-1;RJCT;AM04\n", "XML mal formé"),
    ],
)
def test_junk_is_refused_in_french(data: bytes, said: str) -> None:
    assert said in str(_refused(data))


def test_an_over_large_file_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.formats import bank_returns

    monkeypatch.setattr(bank_returns, "MAX_BYTES", 100)
    assert "au plus 100 octets" in str(_refused(PAIN002.read_bytes()))


# --- Reason codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("AC01", "identifiant de compte incorrect (IBAN invalide ou inexistant)"),
        ("AC04", "compte clôturé"),
        ("AC06", "compte bloqué"),
        ("AG01", "opération interdite sur ce compte"),
        ("AM04", "provision insuffisante"),
        ("AM05", "doublon"),
        ("MD01", "absence de mandat"),
        ("MD06", "contestation du débiteur (remboursement demandé)"),
        ("MD07", "débiteur décédé"),
        ("MS02", "refus du débiteur"),
        ("MS03", "raison non précisée"),
        ("ZZ99", "motif ZZ99"),
    ],
)
def test_reason_codes_have_french_labels(code: str, label: str) -> None:
    assert reason_label(code) == label


def test_the_reason_map_covers_the_sepa_direct_debit_r_transactions() -> None:
    sdd = {"AC01", "AC04", "AC06", "AC13", "AG01", "AG02", "AM04", "AM05", "BE05", "CNOR", "DNOR", "FF01",
           "MD01", "MD02", "MD06", "MD07", "MS02", "MS03", "RC01", "RR01", "RR02", "RR03", "RR04", "SL01",
           "FOCR", "DUPL", "TECH"}
    assert sdd <= set(REASONS)
    assert all(label and label == label.strip() and label != f"motif {code}" for code, label in REASONS.items())
