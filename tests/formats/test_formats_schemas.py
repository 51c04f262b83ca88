"""The XSDs: they compile, every component is documented in French and English, and XML validation works."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA
from lxml import etree

from gateway import formats
from gateway.domain import FileFormat, FileKind
from gateway.errors import SchemaError
from gateway.formats import csvreader, declaration, payslip, xsd

XS = "{http://www.w3.org/2001/XMLSchema}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def test_all_schemas_compile() -> None:
    names = formats.compile_all()
    assert {"declaration-1.xsd", "payslip-1.xsd"} <= set(names)


def test_a_broken_schema_stops_the_gateway(tmp_path: Path) -> None:
    for name in xsd.SCHEMA_FILES.values():
        (tmp_path / name).write_bytes((xsd.schemas_dir() / name).read_bytes())
    (tmp_path / "payslip-1.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:bad/>'
    )
    with pytest.raises(SchemaError, match="payslip-1.xsd"):
        formats.compile_all(tmp_path)
    (tmp_path / "payslip-1.xsd").unlink()
    with pytest.raises(SchemaError, match="absent"):
        formats.compile_all(tmp_path)


def test_a_schema_may_not_import_anything(tmp_path: Path) -> None:
    for name in xsd.SCHEMA_FILES.values():
        (tmp_path / name).write_bytes((xsd.schemas_dir() / name).read_bytes())
    (tmp_path / "evil.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="/etc/passwd"/></xs:schema>'
    )
    with pytest.raises(SchemaError):
        formats.compile_all(tmp_path)


@pytest.mark.parametrize("name", sorted(xsd.SCHEMA_FILES.values()))
def test_every_element_and_attribute_documented_in_french_and_english(name: str) -> None:
    doc = etree.parse(str(xsd.schemas_dir() / name))
    components = doc.iter(
        f"{XS}element", f"{XS}attribute", f"{XS}simpleType", f"{XS}complexType", f"{XS}enumeration"
    )
    for node in components:
        if node.tag == f"{XS}complexType" and node.get("name") is None:
            continue  # an anonymous type is documented by its element
        langs = {
            d.get(LANG) for d in node.findall(f"{XS}annotation/{XS}documentation") if (d.text or "").strip()
        }
        assert {"fr", "en"} <= langs, (
            f"{name}: {node.tag} {node.get('name') or node.get('value')} undocumented"
        )


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("MARTIN", True),
        ("Zoé", True),
        ("O'Brien", True),
        ("Jean-Pierre", True),
        ("DE LA TOUR", True),
        ("Ἀλέξανδρος", True),
        ("李", True),
        ("D’Artagnan", True),
        ("M4RTIN", False),
        ("-MARTIN", False),
        (" MARTIN", False),
        ("MARTIN.", False),
        ("", False),
        ("A" * 61, False),
        ("A" * 60, True),
    ],
)
def test_name_rule_same_in_xsd_and_csv(name: str, ok: bool) -> None:
    xml = (
        '<declarations xmlns="urn:csm-gateway:declaration:1"><declaration employer="104512" period="2026-11">'
        f"<employee><last-name>{name}</last-name><first-name>Paul</first-name><birth-date>1990-01-01</birth-date>"
        "<gross>1</gross><hours>1</hours></employee></declaration></declarations>"
    ).encode()
    assert formats.read(xml, "n.xml").ok is ok
    assert csvreader.is_name(name) is ok


@pytest.mark.parametrize("value", ["+1.00", ".5", "1.001", "10000000", "1e3", " 1,00", "-0", "NaN"])
def test_xml_amounts_are_strict(value: str) -> None:
    text = (
        (DATA / "declaration-valid.xml")
        .read_text()
        .replace("<gross>3250.00</gross>", f"<gross>{value}</gross>")
    )
    result = formats.read(text.encode(), "x.xml")
    assert result.value is None
    f = result.findings[0]
    assert (f.code, f.location.xpath, f.location.line) == (
        "XML_SCHEMA",
        "/declarations/declaration[1]/employee[1]/gross[1]",
        6,
    )
    assert f.expected and "2 décimales" in f.expected


def test_xml_schema_findings_capped_with_total() -> None:
    employees = "".join(
        f'<employee registration="{1000000 + i}"><gross>x</gross><hours>1</hours></employee>'
        for i in range(130)
    )
    xml = (
        f'<declarations xmlns="urn:csm-gateway:declaration:1"><declaration employer="104512" period="2026-11">'
        f"{employees}</declaration></declarations>"
    ).encode()
    result = formats.read(xml, "x.xml")
    assert len(result.findings) == 100 and result.total_findings == 130
    assert result.findings[99].location.xpath == "/declarations/declaration[1]/employee[100]/gross[1]"


def test_xml_structure_findings() -> None:
    xml = (
        b'<declarations xmlns="urn:csm-gateway:declaration:1"><declaration period="2026-11">'
        b'<employee registration="2001234" foo="1"><hours>1</hours><gross>1</gross></employee>'
        b"</declaration></declarations>"
    )
    found = {(f.location.xpath, f.expected) for f in formats.read(xml, "x.xml").findings}
    assert ("/declarations/declaration[1]/@employer", "numéro d'employeur : 5 à 9 chiffres") in found
    assert any(x == "/declarations/declaration[1]/employee[1]/@foo" for x, _ in found)
    assert ("/declarations/declaration[1]/employee[1]/hours[1]", "élément « gross »") in found


def test_xml_test_flag_and_header_values() -> None:
    text = (DATA / "declaration-valid.xml").read_text().replace('test="false"', 'test="true"')
    value = formats.read(text.encode(), "x.xml").value
    assert value is not None and value.test and value.software == "PaieMC 4.2"  # type: ignore[union-attr]


JUNK = {
    "empty": b"",
    "blank": b"  \n ",
    "wrong-root": b"<foo/>",
    "other-kind": (DATA / "payslip-valid.xml").read_bytes(),
    "truncated": (DATA / "declaration-valid.xml").read_bytes()[:150],
    "binary": bytes(range(256)) * 4,
    "csv-junk": b"a;b;c\n1;2;3\n",
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


@pytest.mark.parametrize("module", [declaration, payslip], ids=["declaration", "payslip"])
@pytest.mark.parametrize("junk", sorted(JUNK))
def test_junk_fed_to_every_module_is_refused(module: formats.MessageModule, junk: str) -> None:
    data = JUNK[junk]
    if junk == "other-kind" and module is payslip:
        data = (DATA / "declaration-valid.xml").read_bytes()
    sniffed = formats.sniff(data, "junk.xml", formats.Limits())
    if isinstance(sniffed, formats.ReadResult):
        assert sniffed.value is None and sniffed.findings
        # and the module itself, handed a made-up sniff of the same bytes, still refuses cleanly
        sniffed = formats.Sniff("junk.csv", data, FileFormat.CSV, header=("a", "b"))
    assert not module.identify(sniffed)
    result = module.parse(sniffed, formats.Limits())
    assert result.value is None and result.findings[0].code == "FILE_UNKNOWN_KIND"
    assert result.kind is module.KIND


def test_every_module_identifies_its_own() -> None:
    for module, kind in ((declaration, FileKind.DECLARATION), (payslip, FileKind.PAYSLIP)):
        for ext in ("xml", "csv"):
            sniffed = formats.sniff((DATA / f"{kind.value}-valid.{ext}").read_bytes(), "x", formats.Limits())
            assert isinstance(sniffed, formats.Sniff) and module.identify(sniffed)
