"""A payslip request comes back as payslip PDFs and XML in the employer's folder, listed in the acknowledgement."""

from __future__ import annotations

import io

from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from gateway.store.models import ReceivedFile
from tests.intake.helpers import drop, outbox_files, payslips_of, pipeline
from tests.intake.test_intake import NS, ack_of

REQUEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<payslip-requests xmlns="urn:csm-gateway:payslip:1">
  <payslip employer="104512" period="2026-11" registration="2001234">
    <hourly-rate>19.50</hourly-rate>
    <hours>151.67</hours>
    <overtime rate="25" hours="8"/>
    <element kind="bonus" label="Prime d'objectif" amount="250.00"/>
    <element kind="benefit-in-kind" label="Repas" amount="90.00"/>
    <element kind="allowance" label="Frais de transport" amount="40.00"/>
    <element kind="deduction" label="Absence non r\xc3\xa9mun\xc3\xa9r\xc3\xa9e" amount="120.00"/>
  </payslip>
  <payslip employer="104512" period="2026-11" registration="2002001">
    <hourly-rate>19.50</hourly-rate>
    <hours>151.67</hours>
  </payslip>
</payslip-requests>
"""


def test_payslip_request_to_pdfs(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "bulletins.xml", REQUEST)
    assert pipeline(config, demo_store).run_once().outcomes == {"partly-accepted": 1}
    files = outbox_files(config)
    ack = ack_of(files)
    first, second = ack.findall("a:payslip", NS)
    assert first.get("status") == "accepted" and second.get("status") == "refused"
    assert [f.get("code") for f in second.findall("a:finding", NS)] == ["PAYSLIP_NOT_IN_WORKFORCE"]
    pdf_path = first.get("document")
    assert pdf_path.startswith("100001/104512/payslips/2026-11/") and pdf_path in files
    text = PdfReader(io.BytesIO(files[pdf_path])).pages[0].extract_text()
    assert "ROSSI" in text and "Prime d'objectif" in text and len(PdfReader(io.BytesIO(files[pdf_path])).pages) == 1
    xml = etree.fromstring(files[pdf_path[:-4] + ".xml"])
    ns = {"p": "urn:csm-gateway:payslip-result:1"}
    # base pay 19.50 × 151.67 = 2957.565 → 2957.57; overtime 19.50 × 1.25 × 8 = 195.00;
    # gross = 2957.57 + 195.00 + 250.00 + 90.00 − 120.00 = 3372.57
    assert xml.findtext("p:gross", namespaces=ns) == "3372.57"
    assert first.get("gross") == "3372.57" and first.get("net") == xml.findtext("p:net", namespaces=ns)


P = {"p": "urn:csm-gateway:payslip-result:1"}

CSV = (
    b"employer;period;registration;hourly_rate;hours;overtime_25_hours;overtime_50_hours;element_kind;"
    b"element_label;element_amount\n"
    b"104513;2026-11;2002001;19,5;151,67;8;;bonus;Prime;250\n"
    b"104513;2026-11;2002001;;;;;deduction;Retenue;120,5\n"
    b"104513;11/2026;2002002;21,1234;169;;2,5;;;\n"
)


def test_every_delivered_payslip_xml_is_valid_against_its_schema(config, demo_store) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "bulletins.xml", REQUEST)
    drop(config, "100001", "bulletins.csv", CSV)
    drop(config, "100001", "essai.test.csv", b"".join(CSV.splitlines(keepends=True)[:3]))  # other bytes
    assert pipeline(config, demo_store).run_once().outcomes == {"partly-accepted": 1, "accepted": 2}
    files = outbox_files(config)
    payslips = payslips_of(files)  # checked with xmlschema and lxml against schemas/payslip-result-1.xsd
    assert len(payslips) == 4 and len([n for n in payslips if n.startswith("100001/test/")]) == 1
    for name, root in payslips.items():
        assert name[:-4] + ".pdf" in files
        assert root.get("test") == ("true" if name.startswith("100001/test/") else "false")
    csv_first = payslips[next(n for n in payslips if "2002001" in n and "/test/" not in n)]
    # CSV decimals come back written plainly: 19,5 → 19.50; 8 hours → 8.00; 250 → 250.00
    assert csv_first.findtext("p:hourly-rate", namespaces=P) == "19.50"
    assert csv_first.findtext("p:overtime-hours/p:overtime/p:hours", namespaces=P) == "8.00"
    assert [x.text for x in csv_first.iterfind("p:earnings/p:line/p:employee", P)][-2:] == ["250.00", "-120.50"]
    csv_second = payslips[next(n for n in payslips if "2002002" in n and "/test/" not in n)]
    assert csv_second.findtext("p:earnings/p:line[2]/p:rate", namespaces=P) == "31.6851"  # 21.1234 × 1.5


def test_a_payslip_xml_breaking_its_schema_is_never_delivered(config, demo_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gateway import deliver as pipeline_mod

    real = pipeline_mod.render_payslip_xml

    def unknown_fund(*args, **kwargs):  # type: ignore[no-untyped-def]
        return real(*args, **kwargs).replace(b"<fund>CAR</fund>", b"<fund>CARS</fund>")

    monkeypatch.setattr(pipeline_mod, "render_payslip_xml", unknown_fund)
    drop(config, "100001", "bulletins.xml", REQUEST)
    assert pipeline(config, demo_store).run_once().outcomes == {"failed": 1}
    files = outbox_files(config)
    assert not [n for n in files if "/payslips/" in n], "neither the XML nor the PDF of the payslip"
    assert ack_of(files).get("status") == "failed"
    with demo_store.tx() as s:
        row = s.scalar(select(ReceivedFile))
        assert row.state == "failed" and "payslip-result-1.xsd" in row.error
