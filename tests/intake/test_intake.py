"""A file dropped in an inbox comes back as an acknowledgement, and its declarations are recorded once."""

from __future__ import annotations

import dataclasses
import io
import os

import pytest
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import func, select

from gateway.render.ack_xml import check_ack_xml
from gateway.rules.rates import RateBook
from gateway.store.models import Declaration, DeclarationLine, Employee, Employment, ReceivedFile
from tests.intake.helpers import NEW_HIRE, ack_of, decl, declaration_xml, drop, outbox_files, pipeline

NS = {"a": "urn:csm-gateway:acknowledgement:1"}


def count(store, model) -> int:  # type: ignore[no-untyped-def]
    with store.tx() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_accepted_file_is_recorded_once_and_acknowledged(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "novembre.xml", declaration_xml(decl(lines=None), decl("104513", lines=(
        '<employee registration="2002001"><gross>4100.00</gross><hours>169</hours></employee>' + NEW_HIRE))))
    summary = pipeline(config, demo_store).run_once()
    assert summary.received == 1 and summary.outcomes == {"accepted": 1}
    assert not any((config.inbox / "100001").iterdir()), "the file left the inbox"
    files = outbox_files(config)
    ack = ack_of(files)
    assert ack.get("status") == "accepted"
    refs = [d.get("reference") for d in ack.findall("a:declaration", NS)]
    assert len(refs) == 2 and all(r.startswith(ack.get("reference")) for r in refs)
    assert count(demo_store, Declaration) == 2 and count(demo_store, DeclarationLine) == 4
    # every figure traces back to a dated value and its source
    applied = {r.get("parameter"): r for r in ack.findall("a:rate", NS)}
    assert applied["car/employer"].get("since") == "2025-10-01" and applied["car/employer"].get("source")
    assert applied["ccss/ceiling"].get("unit") == "amount" and applied["car/employee"].get("unit") == "rate"
    # the new employee got a provisional number and an employment from the hire date
    with demo_store.tx() as s:
        paul = s.scalar(select(Employee).where(Employee.last_name == "MARTIN", Employee.first_name == "Paul"))
        assert paul.provisional and paul.registration.startswith("99")
        job = s.scalar(select(Employment).where(Employment.employee_id == paul.id))
        assert str(job.start) == "2026-11-17" and job.end is None
    # the PDFs say it in French, with the one reference
    pdf_name = next(n for n in files if n.endswith(".ack.pdf"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(files[pdf_name])).pages)
    assert "Accusé de réception" in text and ack.get("reference") in text
    decl_pdfs = [n for n in files if "/declarations/2026-11/" in n]
    assert len(decl_pdfs) == 2
    text = PdfReader(io.BytesIO(files[next(n for n in decl_pdfs if "104513" in n)])).pages[0].extract_text()
    assert "MARTIN" in text and paul.registration in text


def test_the_ack_pdf_names_rates_by_their_labels(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    """Accountants read « Plafond CAR », never ``car/ceiling``: in the rates table and the rate warnings."""
    # 1 day: every value used (checked 27/11/2026) is stale for November 2026, and some are unconfirmed
    config = dataclasses.replace(config, rates=dataclasses.replace(config.rates, stale_after_days=1))
    drop(config, "100001", "novembre.xml", declaration_xml(decl()))
    pipeline(config, demo_store).run_once()
    files = outbox_files(config)
    ack = ack_of(files)
    messages = {f.get("code"): f.findtext("a:message", namespaces=NS) for f in ack.findall("a:finding", NS)}
    assert "Taux CCSS patronal" in messages["RATE_UNCONFIRMED"], messages
    assert "Plafond CAR" in messages["RATE_STALE"]
    # the values it names are the rates list's « non confirmé » rows, as many as there are: the CMRC tranche B
    # ceiling (made from the unconfirmed tranche A ceiling) is one
    unconfirmed = [r for r in ack.findall("a:rate", NS) if r.get("unconfirmed") == "true"]
    assert messages["RATE_UNCONFIRMED"].startswith(f"{len(unconfirmed)} valeur(s) non confirmée(s)")
    assert "Plafond CMRC tranche B" in messages["RATE_UNCONFIRMED"]
    # the XML keeps the machine identifiers
    assert {"ccss/employer", "car/ceiling"} <= {r.get("parameter") for r in ack.findall("a:rate", NS)}
    pdf_name = next(n for n in files if n.endswith(".ack.pdf"))
    pages = PdfReader(io.BytesIO(files[pdf_name])).pages
    text = " ".join(p.extract_text() for p in pages).replace("\u202f", " ")
    appendix = text[text.index("Taux et plafonds appliqués"):]
    for label in ("Plafond CAR", "Taux CCSS patronal", "Taux CMRC tranche B salarial",
                  "Plafond CMRC tranche B"):
        assert label in appendix, label
    assert "Valeur Taux / montant En vigueur depuis Statut" in appendix
    assert "non confirmé" in appendix and "Plafond CAR 6 112,00 € 01/10/2025" in appendix
    assert "RATE_UNCONFIRMED" in text and "RATE_STALE" in text
    for name in RateBook.load().parameters:
        assert name not in text, name


def test_resending_the_same_bytes_records_nothing_twice(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    data = declaration_xml(decl())
    drop(config, "100001", "a.xml", data)
    pipeline(config, demo_store).run_once()
    drop(config, "100001", "a-again.xml", data)
    summary = pipeline(config, demo_store).run_once()
    assert summary.duplicates == 1 and summary.received == 0
    assert count(demo_store, Declaration) == 1 and count(demo_store, ReceivedFile) == 1
    files = outbox_files(config)
    (dup,) = [n for n in files if "duplicate" in n and n.endswith(".xml")]
    check_ack_xml(files[dup])
    root = etree.fromstring(files[dup])
    first = ack_of(files)
    assert root.get("status") == "duplicate" and root.get("reference") == first.get("reference")
    assert root.find("a:file", NS).get("name") == "a-again.xml"


def test_each_declaration_is_judged_on_its_own(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    # 204001 belongs to the other subscriber: refused without revealing anything about it
    drop(config, "100001", "mix.xml", declaration_xml(decl(), decl("204001"), decl("104513", lines=(
        '<employee registration="2002001"><gross>4100.00</gross><hours>169</hours></employee>'))))
    assert pipeline(config, demo_store).run_once().outcomes == {"partly-accepted": 1}
    ack = ack_of(outbox_files(config))
    statuses = [(d.get("employer"), d.get("status")) for d in ack.findall("a:declaration", NS)]
    assert statuses == [("104512", "accepted"), ("204001", "refused"), ("104513", "accepted")]
    # an unconfirmed rate is said once for the file, not once per declaration
    warnings = [f.find("a:message", NS).text for f in ack.findall("a:finding", NS)]
    assert len(warnings) == len(set(warnings)) and not any(
        f.get("code").startswith("RATE_") for d in ack.findall("a:declaration", NS) for f in d.findall("a:finding", NS))
    refused = ack.findall("a:declaration", NS)[1]
    assert refused.get("employer-name") is None
    assert [f.get("code") for f in refused.findall("a:finding", NS)] == ["DECL_EMPLOYER_NOT_ASSIGNED"]
    assert count(demo_store, Declaration) == 2


def test_a_period_declared_once_cannot_be_declared_again(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "first.xml", declaration_xml(decl()))
    pipeline(config, demo_store).run_once()
    drop(config, "100001", "second.xml", declaration_xml(decl(lines=(
        '<employee registration="2001234"><gross>9999.00</gross><hours>169.00</hours></employee>'))))
    assert pipeline(config, demo_store).run_once().outcomes == {"refused": 1}
    assert count(demo_store, Declaration) == 1


def test_a_test_file_is_checked_but_not_recorded(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "essai.xml", declaration_xml(decl(), test=True))
    pipeline(config, demo_store).run_once()
    files = outbox_files(config)
    assert files and all(n.startswith("100001/test/") for n in files)
    assert ack_of(files).get("test") == "true"
    assert count(demo_store, Declaration) == 0
    text = PdfReader(io.BytesIO(files[next(n for n in files if n.endswith(".ack.pdf"))])).pages[0].extract_text()
    assert "TEST" in text


def test_a_broken_file_is_refused_with_a_located_finding(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "broken.xml", declaration_xml(decl())[:-40])
    assert pipeline(config, demo_store).run_once().outcomes == {"refused": 1}
    ack = ack_of(outbox_files(config))
    (f,) = ack.findall("a:finding", NS)
    assert f.get("code") == "XML_NOT_WELL_FORMED" and f.find("a:location", NS).get("line")


def test_csv_declaration(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    csv = (b"employer;period;registration;last_name;first_name;birth_date;director;gross;hours;event;event_start;event_end\n"
           b"104512;11/2026;2001234;;;;;3250,00;169;sickness;10/11/2026;14/11/2026\n"
           b"104512;11/2026;2001234;;;;;;;paid-leave;20/11/2026;21/11/2026\n")
    drop(config, "100001", "novembre.csv", csv)
    assert pipeline(config, demo_store).run_once().outcomes == {"accepted": 1}
    with demo_store.tx() as s:
        (line,) = s.scalars(select(DeclarationLine)).all()
        assert str(line.gross) == "3250.00" and [e.type for e in line.events] == ["sickness", "paid-leave"]


def test_only_complete_regular_files_are_taken(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    folder = config.inbox / "100001"
    drop(config, "100001", ".hidden.xml", declaration_xml(decl()))
    drop(config, "100001", "upload.xml.part", declaration_xml(decl()))
    fresh = folder / "fresh.xml"
    fresh.write_bytes(declaration_xml(decl()))  # just written: not settled yet
    released = folder / "released.xml"
    released.write_bytes(declaration_xml(decl("104513", lines=(
        '<employee registration="2002001"><gross>4100.00</gross><hours>169</hours></employee>'))))
    # just written too, but its marker holds its size: released at once
    (folder / "released.xml.done").write_text(f"size={released.stat().st_size}\n")
    secret = config.home / "secret.xml"
    secret.write_bytes(b"not yours")
    os.symlink(secret, folder / "link.xml")
    os.mkfifo(folder / "fifo.xml")
    p = pipeline(config, demo_store)
    object.__setattr__(p.config.intake, "settle_seconds", 3600.0)
    summary = p.run_once()
    assert summary.received == 1 and summary.references
    left = sorted(x.name for x in folder.iterdir())
    assert left == [".hidden.xml", "fifo.xml", "fresh.xml", "link.xml", "upload.xml.part"]
    assert secret.read_bytes() == b"not yours"


def test_an_unexpected_error_parks_the_file(config, demo_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    p = pipeline(config, demo_store)

    def boom(row):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(p, "_compute", boom)
    drop(config, "100001", "a.xml", declaration_xml(decl()))
    assert p.run_once().outcomes == {"failed": 1}
    ack = ack_of(outbox_files(config))
    assert ack.get("status") == "failed"
    assert ack.find("a:finding", NS).get("code") == "TECHNICAL_ERROR"
    assert ack.get("reference") in ack.find("a:finding/a:message", NS).text
    with demo_store.tx() as s:
        row = s.scalar(select(ReceivedFile))
        assert row.state == "failed" and "simulated bug" in row.error
        assert os.path.exists(row.stored_path), "the original is kept"
    drop(config, "100001", "b.xml", declaration_xml(decl("104513", lines=(
        '<employee registration="2002001"><gross>4100.00</gross><hours>169</hours></employee>'))))
    monkeypatch.undo()
    assert pipeline(config, demo_store).run_once().outcomes == {"accepted": 1}, "the batch goes on"


@pytest.mark.parametrize("name", ["ok.xml"])
def test_acknowledgement_bytes_are_deterministic(config, demo_store, name) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", name, declaration_xml(decl()))
    pipeline(config, demo_store).run_once()
    files = outbox_files(config)
    p = pipeline(config, demo_store)
    with demo_store.tx() as s:
        file_id = s.scalar(select(ReceivedFile.id))
    row = p.intake.file(file_id)
    from gateway.verdicts import FileVerdict

    value = p._value(row)
    acks, notes = p.delivery._deliver_declarations(row, FileVerdict.from_json(row.findings), value)
    again = p.delivery.ack(row, FileVerdict.from_json(row.findings), declarations=acks, notes=notes)
    from gateway.render.ack_xml import render_ack_xml

    (xml_name,) = [n for n in files if n.endswith(".ack.xml")]
    assert render_ack_xml(again) == files[xml_name]


def test_unverified_subscriber_is_refused_until_it_proves_its_address(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    from gateway.verification import set_email
    from tests.intake.helpers import NOW

    code = set_email(demo_store, "100001", "paie@cabinet.example", NOW)
    drop(config, "100001", "a.xml", declaration_xml(decl()))
    assert pipeline(config, demo_store).run_once().outcomes == {"refused": 1}
    ack = ack_of(outbox_files(config))
    errors = [f.get("code") for f in ack.findall("a:finding", NS) if f.get("severity") == "error"]
    assert errors == ["SUBSCRIBER_EMAIL_UNVERIFIED"]
    assert count(demo_store, Declaration) == 0
    drop(config, "100001", "email-verification.txt", b"wrong123\n")
    assert pipeline(config, demo_store).run_once().outcomes == {"refused": 1}
    rejected = [etree.fromstring(v) for n, v in outbox_files(config).items()
                if n.startswith("100001/acknowledgements/email-verification") and n.endswith(".xml")]
    assert [f.get("code") for f in rejected[0].findall("a:finding", NS)] == ["SUBSCRIBER_EMAIL_CODE_REJECTED"]
    drop(config, "100001", "email-verification.txt", code.encode() + b"\n")
    assert pipeline(config, demo_store).run_once().outcomes == {"accepted": 1}
    drop(config, "100001", "b.xml", declaration_xml(decl()) + b"\n")
    assert pipeline(config, demo_store).run_once().outcomes == {"accepted": 1}
    assert count(demo_store, Declaration) == 1
