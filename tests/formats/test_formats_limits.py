"""The gateway's limits on an XML file's shape: each refused with its code, before anything costly runs."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from gateway import config as config_mod
from gateway import formats
from gateway.config import ConfigError, IntakeSection
from gateway.formats import safexml, xmllimits, xsd

NS = 'xmlns="urn:csm-gateway:declaration:1"'
EMPLOYEE = '<employee registration="2001234"><gross>{gross}</gross><hours>151.67</hours></employee>'


def declaration(
    employees: int = 1, gross: str = "3250.00", root_attributes: str = "", inner: str = ""
) -> bytes:
    body = "".join(EMPLOYEE.format(gross=gross) for _ in range(employees))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<declarations {NS} software="x"{root_attributes}>\n'
        f'<declaration employer="104512" period="2026-11">{body}{inner}</declaration></declarations>\n'
    ).encode()


def codes(data: bytes, **limits: int) -> list[str]:
    return [f.code for f in formats.read(data, "x.xml", formats.Limits(**limits)).findings]


def _no_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if anything past the limits runs: neither library's schema validation may see the file."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file over a limit reached the schema")

    monkeypatch.setattr(xsd, "is_valid", boom)
    monkeypatch.setattr(xsd, "explain", boom)


# --- Attributes -------------------------------------------------------------------------------------


def test_200000_attributes_refused_in_well_under_a_second_of_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    attributes = "".join(f' a{i}="v"' for i in range(200_000))
    data = declaration(root_attributes=attributes)
    assert 2_000_000 < len(data) < 2_600_000  # the 2.3 MB file of the issue
    _no_schema(monkeypatch)
    start = time.process_time()
    result = formats.read(data, "x.xml")
    cpu = time.process_time() - start
    assert cpu < 5, f"{cpu:.2f} s of CPU"  # a guard only: measured about 0.1 s (it was hours, quadratic)
    assert [f.code for f in result.findings] == ["XML_TOO_MANY_ATTRIBUTES"]
    f = result.findings[0]
    assert f.message == (
        "L'élément « declarations » porte 200001 attributs : limite de 64 attributs par élément dépassée."
    )
    assert (f.location.line, f.location.xpath) == (2, "/declarations")
    assert f.expected == "au plus 64 attributs par élément"


def test_attribute_limit_is_the_configured_one() -> None:
    attributes = "".join(f' a{i}="v"' for i in range(9))  # 10 with software
    data = declaration(root_attributes=attributes)
    assert codes(data, xml_max_attributes=10) == ["XML_SCHEMA"] * 9  # at the limit: the schema judges
    assert codes(data, xml_max_attributes=9) == ["XML_TOO_MANY_ATTRIBUTES"]


# --- Explanations stop at the cap -------------------------------------------------------------------


def test_explain_builds_no_more_than_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 bad values: 100 findings, 5,000 counted, and xmlschema asked about 100 nodes at most."""
    asked: list[object] = []
    built = 0
    recheck = xsd._recheck

    def spy(sch: object, node: object):  # type: ignore[no-untyped-def]
        nonlocal built
        asked.append(node)
        for error in recheck(sch, node):  # type: ignore[arg-type]
            built += 1
            yield error

    monkeypatch.setattr(xsd, "_recheck", spy)
    result = formats.read(declaration(employees=5_000, gross="-1"), "x.xml")
    assert len(result.findings) == 100 and result.total_findings == 5_000
    assert {f.code for f in result.findings} == {"XML_SCHEMA"}
    # In proportion to the cap, not to the file: a bad amount fails its pattern and its facet (2 errors).
    assert len(asked) <= 100 and built <= 2 * 100


def test_explain_stops_inside_one_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sixty bad attributes on one element, a cap of 10: the iteration stops at the cap."""
    attributes = "".join(f' a{i}="v"' for i in range(60))
    root = safexml.parse(declaration(root_attributes=attributes))
    assert isinstance(root, safexml.Parsed) and not xsd.is_valid("declaration", root.root)
    found, total = xsd.explain("declaration", root.root, limit=10)
    assert len(found) == 10 and total == 60


# --- Elements ---------------------------------------------------------------------------------------


def test_too_many_elements_refused_before_the_tree_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    data = declaration(employees=400)  # 2 + 400 * 3 elements
    assert codes(data, xml_max_elements=1202) == []
    parser = safexml._parser
    targets: list[object] = []

    def counting_only(target: object | None = None) -> object:
        targets.append(target)
        assert target is not None, "the tree was built"
        return parser(target)

    monkeypatch.setattr(safexml, "_parser", counting_only)
    result = formats.read(data, "x.xml", formats.Limits(xml_max_elements=1201))
    assert [f.code for f in result.findings] == ["XML_TOO_MANY_ELEMENTS"]
    f = result.findings[0]
    assert f.message == "Plus de 1201 éléments dans le fichier : limite dépassée."
    assert f.location.line is None and f.expected == "au plus 1201 éléments par fichier"
    assert [type(t).__name__ for t in targets] == ["ElementCounter"]


def test_element_bound_is_exact_enough() -> None:
    """``<`` in comments and CDATA raise the bound; the exact count then lets the file through."""
    inner = "<!-- <<<<<<<<<<<<<<<<<<<< -->" * 100
    data = declaration(employees=10, inner=inner).replace(b"<gross>3250.00", b"<gross><![CDATA[3250.00]]>", 1)
    assert xmllimits.element_bound(data) > 32 + 100
    assert codes(data, xml_max_elements=32) == []
    assert codes(data, xml_max_elements=31) == ["XML_TOO_MANY_ELEMENTS"]


def test_48_mb_of_empty_elements_refused_without_a_tree() -> None:
    """12 million ``<a/>`` would take 1.5 GB as a tree; counted, they are refused in about a second."""
    data = b"<r>" + b"<a/>" * 12_000_000 + b"</r>"
    assert len(data) < formats.Limits().max_file_bytes
    start = time.process_time()
    assert codes(data) == ["XML_TOO_MANY_ELEMENTS"]
    assert time.process_time() - start < 10  # a guard only: measured about 1 s


# --- Depth ------------------------------------------------------------------------------------------


def test_depth_over_the_configured_limit() -> None:
    data = declaration(inner="<x>" * 40 + "</x>" * 40)
    result = formats.read(data, "x.xml")
    assert [f.code for f in result.findings] == ["XML_LIMIT_EXCEEDED"]
    f = result.findings[0]
    assert f.message == "Imbrication de plus de 32 niveaux d'éléments : limite de profondeur dépassée."
    assert f.expected == "au plus 32 niveaux d'éléments" and f.location.line == 3
    assert codes(data, xml_max_depth=42) == ["XML_SCHEMA"]


def test_depth_past_libxml2_names_its_limit() -> None:
    data = declaration(inner="<x>" * 300 + "</x>" * 300)
    f = formats.read(data, "x.xml", formats.Limits(xml_max_depth=256)).findings[0]
    assert f.code == "XML_LIMIT_EXCEEDED" and f.expected == "au plus 256 niveaux d'éléments"


# --- Text, comments, processing instructions -------------------------------------------------------


def test_49_mb_comment_is_a_limit_not_a_malformed_file() -> None:
    data = declaration(inner="<!--" + "x" * (49 * 1024 * 1024) + "-->")
    assert len(data) < formats.Limits().max_file_bytes
    f = formats.read(data, "x.xml").findings[0]
    assert f.code == "XML_LIMIT_EXCEEDED", f
    assert f.message == "Limite de l'analyseur dépassée : un commentaire de plus de 10 Mo."
    assert f.expected == "au plus 10000000 octets" and f.location.line == 3


@pytest.mark.parametrize(
    ("inner", "what"),
    [
        ("<?pi " + "x" * (11 * 1024 * 1024) + "?>", "une instruction de traitement"),
        ("<![CDATA[" + "x" * (11 * 1024 * 1024) + "]]>", "une section CDATA"),
        ("x" * (11 * 1024 * 1024), "un texte ou une valeur"),
    ],
)
def test_parser_limits_are_limits(inner: str, what: str) -> None:
    limits = formats.Limits(xml_max_text_chars=10_000_000)
    f = formats.read(declaration(inner=inner), "x.xml", limits).findings[0]
    assert f.code == "XML_LIMIT_EXCEEDED", f
    assert f.message == f"Limite de l'analyseur dépassée : {what} de plus de 10 Mo."


def test_unclosed_comment_is_still_not_well_formed() -> None:
    assert codes(declaration()[:-30] + b"<!-- never closed") == ["XML_NOT_WELL_FORMED"]


def test_text_over_the_configured_limit() -> None:
    data = declaration(inner="y" * 2_000_000)
    f = formats.read(data, "x.xml").findings[0]
    assert f.code == "XML_LIMIT_EXCEEDED"
    assert f.message == "Texte de 2000000 caractères : limite de 1048576 caractères par texte dépassée."
    assert f.expected == "un texte d'au plus 1048576 caractères" and f.location.line == 3
    # CDATA is merged into the text it sits in, and counted with it.
    cdata = declaration(inner="y" * 600_000 + "<![CDATA[" + "<" * 600_000 + "]]>")
    assert codes(cdata) == ["XML_LIMIT_EXCEEDED"]
    # Characters, not bytes: 600,000 « é » are 1.2 MB and within the limit.
    assert codes(declaration(inner="é" * 600_000)) == ["XML_SCHEMA"]


def test_attribute_value_over_the_configured_limit() -> None:
    data = declaration().replace(b'software="x"', b'software="' + b"s" * 5000 + b'"')
    f = formats.read(data, "x.xml", formats.Limits(xml_max_text_chars=4096)).findings[0]
    assert f.code == "XML_LIMIT_EXCEEDED"
    assert f.message == (
        "Valeur de 5000 caractères pour l'attribut « software » : "
        "limite de 4096 caractères par texte dépassée."
    )
    assert f.location.xpath == "/declarations/@software"


def test_a_valid_file_is_within_every_limit() -> None:
    assert codes(declaration(employees=50)) == []


# --- Configuration ----------------------------------------------------------------------------------


def test_limits_come_from_the_intake_section() -> None:
    cfg = config_mod.parse(
        {
            "intake": {
                "xml_max_elements": 10,
                "xml_max_attributes": 5,
                "xml_max_depth": 7,
                "xml_max_text_chars": 100,
            }
        }
    )
    limits = formats.Limits.from_config(cfg.intake)
    assert limits.xml == xmllimits.XmlLimits(10, 5, 7, 100)
    assert formats.Limits.from_config(IntakeSection()).xml == xmllimits.XmlLimits()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("xml_max_elements", 0),
        ("xml_max_attributes", 0),
        ("xml_max_depth", 257),
        ("xml_max_text_chars", 10_000_001),
        ("xml_max_depth", Decimal("3.5")),
    ],
)
def test_limits_out_of_range_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        config_mod.parse({"intake": {key: value}})
    assert caught.value.key == f"intake.{key}"
