"""The correction notice, PDF and XML: French wording for each outcome (amount due, credit, nothing more),
figures that check (before + difference = after), the XML valid against correction-notice-1.xsd and
carrying the notice's own values."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import xmlschema
from lxml import etree
from pypdf import PdfReader

from gateway.errors import RenderError
from gateway.formats.xsd import compile_all, schemas_dir
from gateway.render.notice_pdf import render_notice_pdf
from gateway.render.notice_xml import NAMESPACE, SCHEMA_FILE, check_notice_xml, render_notice_xml
from gateway.render.text import fr_change
from gateway.rules.account import COMPLEMENTARY, RECTIFYING, CorrectionNotice, FundChange
from gateway.rules.contributions import FUNDS

ROOT = Path(__file__).resolve().parents[2]
MONACO = ZoneInfo("Europe/Monaco")
MADE_AT = datetime(2026, 12, 15, 10, 30, 5, tzinfo=MONACO)
NS = {"n": NAMESPACE}
XS = "{http://www.w3.org/2001/XMLSchema}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def change(fund: str, before_employer: str, before_employee: str, now_employer: str, now_employee: str
           ) -> FundChange:
    return FundChange(fund, FUNDS[fund], Decimal(before_employer), Decimal(before_employee), Decimal(now_employer),
                      Decimal(now_employee))


# One employee declared at 6 000,00 € gross instead of 10 000,00 € (rates of October 2025): CCSS 13,45 %
# (ceiling 9 800), CAR 8,33 % + 6,85 % (ceiling 6 112), unemployment 4 % + 2,4 %, CMRC tranche A unchanged
# (above its 3 971 ceiling both times), tranche B 14,574 % + 9,716 % on 2 029 then 6 029.
UP = (
    change("CCSS", "807.00", "0.00", "1318.10", "0.00"),          # +511,10
    change("CAR", "499.80", "411.00", "509.13", "418.67"),        # +9,33 +7,67
    change("UNEMPLOYMENT", "240.00", "144.00", "400.00", "240.00"),  # +160,00 +96,00
    change("CMRC_A", "238.73", "159.16", "238.73", "159.16"),     # 0
    change("CMRC_B", "295.71", "197.14", "878.67", "585.78"),     # +582,96 +388,64
)  # before 2 992,54 ; after 4 748,24 ; difference +1 755,70 (employer +1 263,39, employee +492,31)


def rectifying(**changes: object) -> CorrectionNotice:
    notice = CorrectionNotice(
        reference="GW-20261127-RDNSKN6Q2E-D1-C1",
        original_reference="GW-20261127-RDNSKN6Q2E-D1",
        kind=RECTIFYING,
        reason="Salaire brut de M. NGUYỄN Văn An déclaré 6 000,00 € au lieu de 10 000,00 € (prime omise).",
        employer="104512",
        employer_name="Boulangerie du Rocher",
        employer_address="12 avenue des Spélugues, 98000 Monaco",
        subscriber="100001",
        period="2026-11",
        recorded_at=datetime(2026, 12, 15, 10, 30, tzinfo=MONACO),
        funds=UP,
        due_on=date(2027, 1, 5),
        direct_debit=True,
        notes=("La part salariale en plus (492,31 €) est à régulariser sur le prochain bulletin de salaire.",),
    )
    return dataclasses.replace(notice, **changes)  # type: ignore[arg-type]


def down() -> CorrectionNotice:
    """The other way round: 10 000,00 € declared for 6 000,00 €, a credit of 1 755,70 €."""
    funds = tuple(FundChange(f.fund, f.label, f.now_employer, f.now_employee, f.before_employer, f.before_employee)
                  for f in UP)
    return rectifying(reference="GW-20261127-RDNSKN6Q2E-D1-C2", funds=funds, due_on=None,
                      reason="Prime de fin d'année déclarée en novembre au lieu de décembre.", notes=())


def complementary() -> CorrectionNotice:
    """A forgotten employee at 2 000,00 € gross added to a declaration of 10 000,00 €: +700,60 €."""
    return rectifying(
        reference="GW-20261203-K7QX2M9PLA-D1-C1", original_reference="GW-20261203-K7QX2M9PLA-D1",
        kind=COMPLEMENTARY, reason="Salariée embauchée le 17/11/2026 omise de la déclaration.",
        funds=(change("CCSS", "1345.00", "0.00", "1614.00", "0.00"),
               change("CAR", "833.00", "685.00", "999.60", "822.00"),
               change("UNEMPLOYMENT", "400.00", "240.00", "480.00", "288.00")),
        due_on=date(2027, 1, 10), direct_debit=False, notes=())


def unchanged() -> CorrectionNotice:
    """A rectifying declaration that changes no amount (hours corrected)."""
    return rectifying(reference="GW-20261127-RDNSKN6Q2E-D1-C3", funds=UP[3:4], due_on=None,
                      reason="Heures de M. NGUYỄN Văn An corrigées (151,67 h).", notes=())


def pages(data: bytes) -> list[str]:
    """Each page's text on single spaces (table cells come back one per line), no-break spaces as spaces."""
    reader = PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", p.extract_text().replace("\u202f", " ").replace("\u00a0", " ")) for p in reader.pages]


def text(data: bytes) -> str:
    return " ".join(pages(data))


_AMOUNT = r"([+\u2212]?)(\d{1,3}(?: \d{3})*,\d{2}) €"


def _decimal(sign: str, digits: str) -> Decimal:
    return Decimal(("-" if sign == "\u2212" else "") + digits.replace(" ", "").replace(",", "."))


# ----------------------------------------------------------------------------------- PDF


def test_rectifying_pdf_says_what_changed_and_when_it_is_debited() -> None:
    data = render_notice_pdf(rectifying(), made_at=MADE_AT)
    assert data.startswith(b"%PDF-") and len(pages(data)) == 1
    t = text(data)
    for expected in (
        "Avis de correction — novembre 2026",
        "Déclaration rectificative (remplace la déclaration GW-20261127-RDNSKN6Q2E-D1)",
        "Boulangerie du Rocher", "12 avenue des Spélugues, 98000 Monaco", "N° employeur : 104512",
        "Référence de la correction GW-20261127-RDNSKN6Q2E-D1-C1",
        "Déclaration d'origine GW-20261127-RDNSKN6Q2E-D1",
        "Enregistrée le 15 décembre 2026 à 10:30:00", "Établi le 15 décembre 2026 à 10:30:05",
        "Motif Salaire brut de M. NGUYỄN Văn An déclaré 6 000,00 € au lieu de 10 000,00 €",
        "Dû avant", "Dû après", "Différence",
        "CAR – retraite de base 910,80 € 927,80 € +17,00 €",
        "dont part patronale 499,80 € 509,13 € +9,33 €",
        "dont part salariale 411,00 € 418,67 € +7,67 €",
        "Total 2 992,54 € 4 748,24 € +1 755,70 €",
        "Montant complémentaire dû : 1 755,70 €",
        "prélevé le 05/01/2027 sur le compte du mandat",
        "• La part salariale en plus (492,31 €)",
        "Service Recouvrement, +377 93 15 49 62, recouvrement@caisses-sociales.mc",
        "page 1/1", "Réf. GW-20261127-RDNSKN6Q2E-D1-C1",
    ):
        assert expected in t, expected
    assert "à régler avant" not in t and "Crédit" not in t


def test_every_line_of_the_table_checks() -> None:
    """Dû avant + Différence = Dû après on every fund, share and total line as printed."""
    t = text(render_notice_pdf(rectifying(), made_at=MADE_AT))
    lines = list(re.finditer(" ".join([_AMOUNT] * 3), t))
    for line in lines:
        before, after, difference = (_decimal(*line.groups()[i:i + 2]) for i in (0, 2, 4))
        assert before + difference == after, line.group(0)
    assert len(lines) == 5 + 9 + 3  # five funds, nine shares (CCSS has no employee share), total and its shares


def test_credit_is_carried_to_the_next_statement_never_debited() -> None:
    t = text(render_notice_pdf(down(), made_at=MADE_AT))
    assert "Crédit en votre faveur : 1 755,70 €" in t
    assert "reporté sur le prochain relevé de cotisations" in t
    assert "Total 4 748,24 € 2 992,54 € \u22121 755,70 €" in t  # a true minus sign
    assert "dont part patronale 509,13 € 499,80 € \u22129,33 €" in t
    assert "prélevé le" not in t and "Montant complémentaire" not in t and "-1 755,70" not in t
    assert "Remarques" not in t


def test_complementary_not_on_direct_debit_is_to_pay_before_the_due_date() -> None:
    t = text(render_notice_pdf(complementary(), made_at=MADE_AT))
    assert "Déclaration complémentaire (s'ajoute à la déclaration GW-20261203-K7QX2M9PLA-D1)" in t
    assert "Montant complémentaire dû : 700,60 €" in t
    assert "à régler avant le 10/01/2027" in t
    assert "Total 3 503,00 € 4 203,60 € +700,60 €" in t
    assert "prélevé" not in t


def test_nothing_more_due() -> None:
    t = text(render_notice_pdf(unchanged(), made_at=MADE_AT))
    assert "Aucun montant supplémentaire" in t
    assert "Total 397,89 € 397,89 € 0,00 €" in t
    assert "Crédit" not in t and "Montant complémentaire" not in t and "répartition" not in t
    # the same total moved between shares: still nothing more, and the notice says what changed
    moved = unchanged().funds[0]
    moved = dataclasses.replace(moved, now_employer=moved.now_employer + 10, now_employee=moved.now_employee - 10)
    t = text(render_notice_pdf(rectifying(funds=(moved,), due_on=None), made_at=MADE_AT))
    assert "Aucun montant supplémentaire" in t and "répartition" in t


def test_text_from_data_is_shown_literally_and_long_text_wraps() -> None:
    notice = rectifying(employer_name="Dupont & Fils <b>SARL</b> " + "très longue raison sociale " * 6,
                        reason="<font size=40>x</font> & \x07 " + "motif détaillé " * 40,
                        notes=tuple(f"Remarque {n} : " + "texte " * 30 for n in range(1, 6)))
    p = pages(render_notice_pdf(notice, made_at=MADE_AT))
    assert all(f"page {n}/{len(p)}" in page for n, page in enumerate(p, start=1))
    t = " ".join(p)
    assert "Dupont & Fils <b>SARL</b>" in t and "<font size=40>x</font> & \ufffd" in t
    assert "Remarque 5 :" in t and "recouvrement@caisses-sociales.mc" in t


def test_same_bytes_twice() -> None:
    assert render_notice_pdf(rectifying(), made_at=MADE_AT) == render_notice_pdf(rectifying(), made_at=MADE_AT)


def test_inconsistent_notices_are_refused() -> None:
    """An amount due with no date, or an unknown kind, is a bug upstream: no document says something made up."""
    for render in (render_notice_pdf, render_notice_xml):
        with pytest.raises(RenderError, match="sans échéance"):
            render(rectifying(due_on=None), made_at=MADE_AT)
        with pytest.raises(RenderError, match="nature inconnue"):
            render(rectifying(kind="original"), made_at=MADE_AT)


def test_differences_show_their_sign() -> None:
    assert fr_change(Decimal("1755.70")) == "+1\u202f755,70\u00a0€"
    assert fr_change(Decimal("-9.33")) == "\u22129,33\u00a0€"
    assert fr_change(Decimal("0.00")) == fr_change(Decimal("-0.001")) == "0,00\u00a0€"


# ----------------------------------------------------------------------------------- XML


@pytest.mark.parametrize("make", [rectifying, down, complementary, unchanged])
def test_xml_is_valid_and_carries_the_notice_values(make: Callable[[], CorrectionNotice]) -> None:
    notice = make()
    data = render_notice_xml(notice, made_at=MADE_AT)
    check_notice_xml(data)
    xmlschema.XMLSchema(str(schemas_dir() / SCHEMA_FILE)).validate(data.decode())  # a second implementation
    assert data == render_notice_xml(notice, made_at=MADE_AT)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<correction-notice xmlns="' + NAMESPACE.encode())
    root = etree.fromstring(data)

    def get(path: str, node: etree._Element = root) -> str:
        found = node.find("n:" + path.replace("/", "/n:"), NS)
        assert found is not None, path
        return found.text or ""

    assert [etree.QName(c).localname for c in root] == [
        "reference", "original-reference", "kind", "reason", "employer", "subscriber", "period", "recorded-at",
        "made-at", *["fund"] * len(notice.funds), "totals", *(["due-on"] if notice.difference > 0 else []),
        "direct-debit", "notes"]
    assert get("reference") == notice.reference and get("original-reference") == notice.original_reference
    assert get("kind") == notice.kind and get("reason") == notice.reason
    assert root.find("n:employer", NS).get("number") == notice.employer  # type: ignore[union-attr]
    assert get("employer/name") == notice.employer_name and get("employer/address") == notice.employer_address
    assert get("subscriber") == notice.subscriber and get("period") == notice.period
    assert datetime.fromisoformat(get("recorded-at")) == notice.recorded_at
    assert datetime.fromisoformat(get("made-at")) == MADE_AT
    assert get("direct-debit") == ("true" if notice.direct_debit else "false")
    assert [n.text for n in root.iterfind("n:notes/n:note", NS)] == list(notice.notes)
    if notice.difference > 0:
        assert date.fromisoformat(get("due-on")) == notice.due_on

    def shares(node: etree._Element, tag: str) -> tuple[Decimal, Decimal, Decimal]:
        return tuple(Decimal(get(f"{tag}/{s}", node)) for s in ("employer", "employee", "total"))  # type: ignore[return-value]

    funds = root.findall("n:fund", NS)
    for node, f in zip(funds, notice.funds, strict=True):
        assert node.get("code") == f.fund and get("label", node) == f.label
        assert shares(node, "before") == (f.before_employer, f.before_employee, f.before)
        assert shares(node, "now") == (f.now_employer, f.now_employee, f.now)
        assert shares(node, "difference") == (f.now_employer - f.before_employer,
                                              f.now_employee - f.before_employee, f.difference)
    totals = root.find("n:totals", NS)
    assert totals is not None
    assert shares(totals, "before")[2] == notice.before and shares(totals, "now")[2] == notice.now
    assert shares(totals, "difference")[2] == notice.difference
    for node in [*funds, totals]:
        before, now, difference = (shares(node, t) for t in ("before", "now", "difference"))
        assert all(b + d == n for b, d, n in zip(before, difference, now, strict=True))
        assert all(s[0] + s[1] == s[2] for s in (before, now, difference))
    for column in range(3):  # the totals are the sums of the funds
        for tag in ("before", "now", "difference"):
            assert sum((shares(n, tag)[column] for n in funds), Decimal(0)) == shares(totals, tag)[column]


def test_xml_text_is_literal_and_clean() -> None:
    notice = rectifying(reason="<b>x</b> & \x07 « motif »", notes=("a < b", "c & d"))
    data = render_notice_xml(notice, made_at=MADE_AT)
    check_notice_xml(data)
    root = etree.fromstring(data)
    assert root.findtext("n:reason", namespaces=NS) == "<b>x</b> & \ufffd « motif »"
    assert [n.text for n in root.iterfind("n:notes/n:note", NS)] == ["a < b", "c & d"]


def test_xml_refuses_what_it_cannot_write_exactly() -> None:
    with pytest.raises(RenderError, match="fuseau horaire"):
        render_notice_xml(rectifying(), made_at=datetime(2026, 12, 15, 10, 30))
    with pytest.raises(RenderError, match="n'est pas arrondi au centime"):
        render_notice_xml(rectifying(funds=(change("CAR", "499.801", "411.00", "509.13", "418.67"),)),
                          made_at=MADE_AT)


def test_a_broken_notice_is_refused_by_the_check() -> None:
    data = render_notice_xml(rectifying(), made_at=MADE_AT)
    with pytest.raises(RenderError, match="non conforme à correction-notice-1.xsd"):
        check_notice_xml(data.replace(b"<kind>rectifying</kind>", b"<kind>original</kind>"))
    with pytest.raises(RenderError, match="non conforme"):
        check_notice_xml(data.replace(b"<total>1755.70</total>", b"<total>1755.7</total>"))
    with pytest.raises(RenderError, match="mal formé"):
        check_notice_xml(data[:300])


# ----------------------------------------------------------------------------------- the schema and the docs


def _schema_doc() -> etree._ElementTree:
    return etree.parse(str(schemas_dir() / SCHEMA_FILE))


def _enumeration(name: str) -> list[str]:
    return [e.get("value") for e in _schema_doc().iterfind(f"{XS}simpleType[@name='{name}']//{XS}enumeration")]


def test_every_schema_component_is_documented_in_french_and_english() -> None:
    components = _schema_doc().iter(
        f"{XS}element", f"{XS}attribute", f"{XS}simpleType", f"{XS}complexType", f"{XS}group", f"{XS}enumeration"
    )
    for node in components:
        if node.get("ref"):
            continue
        langs = {d.get(LANG) for d in node.findall(f"{XS}annotation/{XS}documentation") if (d.text or "").strip()}
        assert langs == {"fr", "en"}, f"{node.tag} {node.get('name') or node.get('value')} undocumented"
    assert _enumeration("Fund") == list(FUNDS)
    assert _enumeration("CorrectionKind") == [COMPLEMENTARY, RECTIFYING]


def test_the_schema_is_compiled_at_start() -> None:
    assert SCHEMA_FILE in compile_all()


def test_the_documented_example_is_what_the_renderer_writes() -> None:
    """docs/outbox.md shows the real output for rectifying(); "…" marks lines left out."""
    doc = (ROOT / "docs" / "outbox.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```xml\n(<\?xml[^`]*?<correction-notice xmlns=[^`]*?)```", doc)
    rendered = render_notice_xml(rectifying(), made_at=MADE_AT).decode().splitlines()
    position = 0
    for line in example.splitlines():
        if line.strip().startswith("…"):
            continue
        assert line in rendered[position:], f"not rendered (in this order): {line!r}"
        position = rendered.index(line, position) + 1
