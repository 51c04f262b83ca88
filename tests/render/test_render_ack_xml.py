"""The XML acknowledgement: valid against acknowledgement-1.xsd, deterministic, literal text."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import pytest
import render_samples as s
from lxml import etree

from gateway.domain import Finding, Location, Outcome
from gateway.errors import RenderError
from gateway.formats.xsd import schemas_dir
from gateway.render.ack_xml import NAMESPACE, check_ack_xml, render_ack_xml

NS = {"a": NAMESPACE}


@pytest.mark.parametrize(
    "ack",
    [
        s.ack(),
        s.ack(capped=True, test=True),
        s.ack(outcome=Outcome.DUPLICATE),
        s.payslip_ack(),
        dataclasses.replace(s.ack(outcome=Outcome.FAILED), kind=None, declarations=()),
    ],
    ids=["partly", "capped-test", "duplicate", "payslips", "failed-unidentified"],
)
def test_valid_against_schema_and_deterministic(ack: object) -> None:
    data = render_ack_xml(ack)  # type: ignore[arg-type]
    check_ack_xml(data)
    assert data == render_ack_xml(ack)  # type: ignore[arg-type]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_content() -> None:
    ack = s.ack(capped=True)
    root = etree.fromstring(render_ack_xml(ack))
    assert root.get("reference") == ack.reference
    assert root.get("total-findings") == "250"
    file = root.find("a:file", NS)
    assert file is not None
    assert file.get("name") == "décl nov 2026 <Nguyễn & Ægir>.xml"
    assert file.get("received") == "2026-12-11T09:15:07+01:00"
    first = root.find("a:declaration", NS)
    assert first is not None
    assert first.get("employer-name") == s.HOSTILE
    assert first.get("total-gross") == "9850.00"
    assert first.get("employer-total") == "3080.08"
    car = first.find("a:contribution[@fund='CAR']", NS)
    assert car is not None and car.get("rate") == "0.1516" and car.get("employee") == "674.73"
    located = root.find("a:declaration[2]/a:finding/a:location", NS)
    assert located is not None and located.get("xpath", "").endswith("@registration")
    # Every attribute of a given element comes in the same order: the order of the schema's documentation.
    assert list(first.attrib)[:4] == ["index", "employer", "employer-name", "period"]


def test_control_characters_are_replaced_not_fatal() -> None:
    bad = Finding("X", "nom avec \x01 et \x1b[31m", location=Location(line=1, field="last_name\x00"))
    ack = dataclasses.replace(s.ack(), findings=(bad,), file_name="a\x07b.csv")
    data = render_ack_xml(ack)
    check_ack_xml(data)
    assert "a\ufffdb.csv" in data.decode()


def test_unrounded_amount_and_naive_time_are_refused() -> None:
    decl = dataclasses.replace(s.ack().declarations[0], total_gross=Decimal("1.005"))
    with pytest.raises(RenderError, match="centime"):
        render_ack_xml(dataclasses.replace(s.ack(), declarations=(decl,)))
    with pytest.raises(RenderError, match="fuseau"):
        render_ack_xml(dataclasses.replace(s.ack(), received_at=datetime(2026, 1, 1)))


def test_check_refuses_invalid_and_malformed() -> None:
    data = render_ack_xml(s.ack())
    with pytest.raises(RenderError, match="non conforme"):
        check_ack_xml(data.replace(b'status="partly-accepted"', b'status="maybe"'))
    with pytest.raises(RenderError, match="mal formé"):
        check_ack_xml(data[:200])
    with pytest.raises(RenderError):
        check_ack_xml(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


def test_every_schema_component_is_documented_in_french_and_english() -> None:
    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.parse(str(schemas_dir() / "acknowledgement-1.xsd"))
    for node in tree.iter(f"{xs}element", f"{xs}attribute", f"{xs}simpleType"):
        langs = {d.get("{http://www.w3.org/XML/1998/namespace}lang") for d in node.iterfind(f"{xs}annotation/{xs}documentation")}
        assert langs == {"fr", "en"}, f"{node.tag} {node.get('name')} is not documented in both languages"
