"""The payslip result XML: valid against payslip-result-1.xsd, deterministic, and a tampered one refused."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
import render_samples as s
import xmlschema
from lxml import etree

from gateway.domain import PayLine, Severity, Share
from gateway.errors import RenderError
from gateway.formats.xsd import schemas_dir
from gateway.render import xml_check
from gateway.render.payslip_xml import NAMESPACE, SCHEMA_FILE, check_payslip_xml, render_payslip_xml
from gateway.rules.contributions import FUNDS
from gateway.rules.payslip_rules import OVERTIME_RATES

ROOT = Path(__file__).resolve().parents[2]
NS = {"p": NAMESPACE}
XS = "{http://www.w3.org/2001/XMLSchema}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
REFERENCE = "GW-20261127-RDNSKN6Q2E-P1"
EXAMPLE_EMPLOYER = "Boulangerie du Rocher"


def _render(payslip: s.Payslip, test: bool = False) -> bytes:
    return render_payslip_xml(payslip, reference=REFERENCE, test=test)


@pytest.mark.parametrize(
    "payslip",
    [
        s.payslip(),
        s.payslip(employee_name="NGUYỄN Văn An \x07 <b>&</b>"),  # a control character and markup
        s.computed_payslip(),
        s.computed_payslip(overtime_50=False),
    ],
    ids=["hand-built", "hostile-name", "computed-prorated", "computed-no-overtime-50"],
)
def test_valid_against_schema_and_deterministic(payslip: s.Payslip) -> None:
    data = _render(payslip)
    check_payslip_xml(data)
    assert data == _render(payslip)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<payslip xmlns="urn:csm-gateway:payslip-result:1"')
    # xmlschema, a second and independent implementation, agrees
    xmlschema.XMLSchema(str(schemas_dir() / SCHEMA_FILE)).validate(data.decode())


def test_content_and_order() -> None:
    root = etree.fromstring(_render(s.payslip(), test=True))
    assert root.get("reference") == REFERENCE and root.get("test") == "true"
    assert [etree.QName(c).localname for c in root] == [
        "employer", "period", "registration", "employer-name", "employer-address", "employee-name",
        "hourly-rate", "hours", "overtime-hours", "earnings", "gross", "contributions",
        "employee-contributions", "employer-contributions", "non-subject", "net", "total-cost",
        "payment-date", "notes", "findings",
    ]  # fmt: skip
    assert root.findtext("p:employer-name", namespaces=NS) == s.HOSTILE  # as text, never markup
    assert root.findtext("p:overtime-hours/p:overtime/p:hours", namespaces=NS) == "8.00"  # Decimal(8) in the request
    overtime = root.find("p:earnings/p:line[2]", NS)
    assert overtime is not None and overtime.findtext("p:rate", namespaces=NS) == "24.375"
    assert root.findtext("p:earnings/p:line[5]/p:employee", namespaces=NS) == "-120.00"
    car = root.find("p:contributions/p:contribution[2]", NS)
    assert car is not None and [car.findtext(f"p:{n}", namespaces=NS) for n in ("fund", "share", "rate", "amount")] == [
        "CAR", "employee", "0.0685", "231.02"]
    assert root.findtext("p:payment-date", namespaces=NS) == "2026-11-30"
    assert root.find("p:findings", NS) is not None and len(root.find("p:findings", NS)) == 0  # type: ignore[arg-type]


def test_hourly_rates_keep_their_figure() -> None:
    base = s.payslip()
    for rate, text in (("19.5", "19.50"), ("20", "20.00"), ("19.1234", "19.1234"), ("23.904250", "23.90425")):
        line = PayLine("Salaire de base", Decimal("1.00"), Decimal(rate), employee=Decimal("1.00"))
        data = _render(dataclasses.replace(base, earnings=(line,)))
        check_payslip_xml(data)
        assert etree.fromstring(data).findtext("p:earnings/p:line/p:rate", namespaces=NS) == text


def test_an_unrounded_amount_is_a_bug_not_rounded() -> None:
    with pytest.raises(RenderError, match="centime"):
        _render(dataclasses.replace(s.payslip(), net=Decimal("2875.445")))


# Each edit of a valid payslip XML, and the rule of the schema it breaks.
TAMPERED = {
    "negative contribution": (b"<amount>453.61</amount>", b"<amount>-453.61</amount>"),
    "three decimals": (b"<gross>3372.57</gross>", b"<gross>3372.570</gross>"),
    "decimal comma": (b"<net>2875.44</net>", b"<net>2875,44</net>"),
    "one decimal": (b"<total-cost>4484.78</total-cost>", b"<total-cost>4484.8</total-cost>"),
    "unknown element": (b"<notes>", b"<bonus>1.00</bonus>\n  <notes>"),
    "missing element": (b"<gross>3372.57</gross>", b""),
    "unknown fund": (b"<fund>CCSS</fund>", b"<fund>CNSS</fund>"),
    "unknown share": (b"<share>employee</share>", b"<share>both</share>"),
    "unknown overtime rate": (b"<rate>25</rate>", b"<rate>30</rate>"),
    "not a boolean": (b"<subject>true</subject>", b"<subject>oui</subject>"),
    "not a date": (b"<payment-date>2026-11-30</payment-date>", b"<payment-date>30/11/2026</payment-date>"),
    "bad registration": (b"<registration>2001234</registration>", b"<registration>20-01234</registration>"),
    "rate with exponent": (b"<rate>0.0685</rate>", b"<rate>6.85E-2</rate>"),
    "attribute on an element": (b"<gross>", b'<gross currency="EUR">'),
    "other namespace": (b'xmlns="urn:csm-gateway:payslip-result:1"', b'xmlns="urn:csm-gateway:payslip-result:2"'),
}


@pytest.mark.parametrize("edit", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_payslip_is_refused(edit: tuple[bytes, bytes]) -> None:
    data = _render(s.payslip())
    old, new = edit
    assert old in data
    with pytest.raises(RenderError, match="non conforme à payslip-result-1.xsd"):
        check_payslip_xml(data.replace(old, new, 1))


def test_malformed_and_hostile_are_refused() -> None:
    data = _render(s.payslip())
    with pytest.raises(RenderError, match="mal formé"):
        check_payslip_xml(data[:300])
    with pytest.raises(RenderError):
        check_payslip_xml(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


def test_the_schema_is_compiled_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _render(s.payslip())
    check_payslip_xml(data)
    compiled = []
    real = etree.XMLSchema
    monkeypatch.setattr(xml_check.etree, "XMLSchema", lambda *a, **k: compiled.append(1) or real(*a, **k))
    for _ in range(3):
        check_payslip_xml(data)
    assert compiled == []


def _schema_doc() -> etree._ElementTree:
    return etree.parse(str(schemas_dir() / SCHEMA_FILE))


def _enumeration(type_name: str) -> list[str]:
    (simple,) = _schema_doc().iterfind(f"{XS}simpleType[@name='{type_name}']")
    return [e.get("value", "") for e in simple.iter(f"{XS}enumeration")]


def test_closed_sets_are_those_of_the_code() -> None:
    """A new fund, share, severity or overtime rate breaks the contract: it needs a new schema version."""
    assert _enumeration("Fund") == list(FUNDS)
    assert _enumeration("Share") == [share.value for share in Share]
    assert _enumeration("Severity") == [severity.value for severity in Severity]
    assert _enumeration("OvertimeRate") == [str(rate) for rate in OVERTIME_RATES]


def test_every_schema_component_is_documented_in_french_and_english() -> None:
    components = _schema_doc().iter(
        f"{XS}element", f"{XS}attribute", f"{XS}simpleType", f"{XS}complexType", f"{XS}enumeration"
    )
    for node in components:
        langs = {
            d.get(LANG) for d in node.findall(f"{XS}annotation/{XS}documentation") if (d.text or "").strip()
        }
        assert langs == {"fr", "en"}, f"{node.tag} {node.get('name') or node.get('value')} undocumented"


def test_the_package_ships_the_same_schemas() -> None:
    """gateway/schemas (the copy in the wheel) holds every XSD of schemas/, byte for byte."""
    for path in sorted((ROOT / "schemas").glob("*.xsd")):
        assert (ROOT / "gateway" / "schemas" / path.name).read_bytes() == path.read_bytes(), path.name
    with (ROOT / "pyproject.toml").open("rb") as fh:
        assert "schemas/*.xsd" in tomllib.load(fh)["tool"]["setuptools"]["package-data"]["gateway"]


def test_the_documented_example_is_what_the_renderer_writes() -> None:
    """docs/outbox.md shows the real output for render_samples.computed_payslip(employer_name=EXAMPLE_EMPLOYER);
    "…" marks lines left out."""
    text = (ROOT / "docs" / "outbox.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```xml\n(<\?xml[^`]*?<payslip xmlns=[^`]*?)```", text)
    rendered = _render(s.computed_payslip(employer_name=EXAMPLE_EMPLOYER)).decode().splitlines()
    position = 0
    for line in example.splitlines():
        if line.strip().startswith("…"):
            continue
        assert line in rendered[position:], f"not rendered (in this order): {line!r}"
        position = rendered.index(line, position) + 1


def test_every_dated_value_says_its_french_label() -> None:
    """Software reading the payslip back shows the values as the PDF does: each rate-use, ceiling-use and
    base-use carries the label of its parameter (or of the formula, for a derived value)."""
    root = etree.fromstring(_render(s.computed_payslip()))
    uses = root.xpath("//p:rate-use | //p:ceiling-use | //p:base-use", namespaces=NS)
    assert len(uses) > 10
    labels = {u.findtext(f"{{{NAMESPACE}}}parameter"): u.findtext(f"{{{NAMESPACE}}}label") for u in uses}
    assert all(labels.values()), [p for p, label in labels.items() if not label]
    assert labels["car/ceiling"] == "Plafond CAR"
