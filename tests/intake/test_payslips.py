"""A payslip request comes back as payslip PDFs and XML in the employer's folder, listed in the acknowledgement."""

from __future__ import annotations

import io

from lxml import etree
from pypdf import PdfReader

from tests.intake.helpers import drop, outbox_files, pipeline
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
