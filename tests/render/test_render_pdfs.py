"""PDFs read back as text: French wording, every name drawn, markup shown literally, same bytes twice."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import datetime

import render_samples as s
from pypdf import PdfReader

from gateway.domain import Outcome
from gateway.money import format_eur
from gateway.render.ack_pdf import render_ack_pdf
from gateway.render.declaration_pdf import render_declaration_pdf
from gateway.render.payslip_pdf import render_payslip_pdf

NAMES = ("Łukasz", "ŻÓŁĆ", "NGUYỄN", "Ægir", "ÞÓRSSON")


def pages(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    # Tables and wrapped lines come back with line breaks in odd places: compare on single spaces.
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def text(data: bytes) -> str:
    return " ".join(pages(data))


def assert_literal_img(t: str) -> None:
    """The tag is shown as text (it may wrap inside its cell, hence no spaces compared)."""
    assert '<imgsrc="http://example.invalid/x.png"/>' in re.sub(r"\s", "", t)


def declaration_pdf(*, test: bool = False) -> bytes:
    return render_declaration_pdf(
        s.declaration(),
        reference="DEC-2026-11-104512-0001",
        employer_name=s.HOSTILE,
        employer_address="12 avenue des Spélugues, 98000 Monaco",
        received_at=datetime(2026, 12, 11, 9, 15, tzinfo=s.MONACO),
        names=s.DECL_NAMES,
        registrations=s.DECL_REGISTRATIONS,
        funds=s.FUNDS,
        late=True,
        test=test,
    )


def test_ack_pdf_says_what_an_accountant_needs() -> None:
    data = render_ack_pdf(s.ack())
    assert data.startswith(b"%PDF-")
    t = text(data)
    for expected in (
        "Accusé de réception",
        "Référence à rappeler : ACK-20261211-0007",
        "Partiellement accepté",
        "Nguyễn & Ægir",
        s.HOSTILE,
        "11 décembre 2026 à 09:15:07",
        s.SHA,
        "Acceptée",
        "Refusée",
        "1 324,83 €",
        "Embauche de Łukasz Żółć",
        "ligne 14, colonne 5",
        "un matricule connu de 6 à 9 chiffres",
        "Avertissement",
        "régularisation annuelle",
    ):
        assert expected.replace("\u202f", " ") in t.replace("\u202f", " "), expected
    assert_literal_img(t)
    p = pages(data)
    assert all(f"page {n}/{len(p)}" in page for n, page in enumerate(p, start=1))
    assert all("Réf. ACK-20261211-0007" in page and "Caisses Sociales de Monaco" in page for page in p)


def test_ack_pdf_statuses() -> None:
    dup = text(render_ack_pdf(s.ack(outcome=Outcome.DUPLICATE)))
    assert "Doublon d'un envoi antérieur (référence ACK-20261210-0003)" in dup
    failed = text(render_ack_pdf(dataclasses.replace(s.ack(outcome=Outcome.FAILED), declarations=())))
    assert "Erreur technique — citez la référence ACK-20261211-0007" in failed
    assert "Refusé" in text(render_ack_pdf(s.ack(outcome=Outcome.REFUSED)))
    assert "Accepté" in text(render_ack_pdf(s.ack(outcome=Outcome.ACCEPTED)))


def test_capped_findings_say_so_and_test_is_marked() -> None:
    t = text(render_ack_pdf(s.ack(capped=True, test=True)))
    assert "250 anomalies au total, les 99 premières sont listées" in t
    assert "DOCUMENT DE TEST" in t and "TEST" in t


def test_payslip_ack_lists_payslips() -> None:
    t = text(render_ack_pdf(s.payslip_ack()))
    assert "Bulletins de salaire" in t and "104512/payslips/2026-11/2001234.pdf" in t and "Produit" in t


def test_declaration_pdf() -> None:
    data = declaration_pdf()
    t = text(data)
    for expected in (
        "Déclaration de salaires — originale",
        "DEC-2026-11-104512-0001",
        "novembre 2026",
        s.HOSTILE,
        "9000001 (provisoire)",
        "Maladie du 10/11/2026 au 14/11/2026",
        "Congés payés du 24/11/2026 au 28/11/2026, 35,00 h",
        "Début de contrat le 17/11/2026",
        "Fin de contrat le 20/11/2026",
        "Total : 5 salarié(s)",
        "en retard",
        "Cotisations par caisse",
        *NAMES,
    ):
        assert expected in t, expected
    assert_literal_img(t)


def test_payslip_pdf_one_page_with_mentions() -> None:
    data = render_payslip_pdf(s.payslip(), reference="PAY-0001", test=False)
    p = pages(data)
    assert len(p) == 1
    t = p[0].replace("\u202f", " ")
    for expected in (
        "Bulletin de salaire — novembre 2026",
        s.HOSTILE,
        "12 avenue des Spélugues",
        "ŻÓŁĆ Łukasz",
        "Emploi : Chef de rang",
        "heures normales 151,67 h",
        "heures supplémentaires à +25 % 8,00 h",
        "taux horaire 19,50 €",
        "24,375",
        "Salaire brut 3 372,57",
        "6,85 %",
        "4,008 %",
        "Total des cotisations 447,13 1 072,21",
        "Net à payer 2 875,44",
        "Date de paiement : 30/11/2026",
        "déclarés à la CCSS, à la CAR",
        "159,67 h",
        "Coût total pour l'employeur : 4 484,78 €",
        "page 1/1",
    ):
        assert expected in t, expected


def test_very_long_names_wrap_and_payslip_stays_one_page() -> None:
    data = render_payslip_pdf(
        s.payslip(employee_name=s.LONG_NAME, employer_name=s.LONG_NAME * 2), reference="PAY-2", test=True
    )
    p = pages(data)
    assert len(p) == 1
    assert "Division Restauration Collective" in p[0]


def test_same_bytes_twice() -> None:
    assert render_ack_pdf(s.ack(capped=True)) == render_ack_pdf(s.ack(capped=True))
    assert declaration_pdf(test=True) == declaration_pdf(test=True)
    one = render_payslip_pdf(s.payslip(), reference="PAY-1", test=False)
    assert one == render_payslip_pdf(s.payslip(), reference="PAY-1", test=False)
    assert b"/CreationDate (D:20000101000000" in one  # ReportLab's invariant date, not the clock


def test_only_the_embedded_dejavu_fonts_are_used() -> None:
    for data in (
        render_payslip_pdf(s.payslip(), reference="PAY-1", test=True),
        render_ack_pdf(s.ack(capped=True, test=True)),
        declaration_pdf(test=True),
    ):
        for page in PdfReader(io.BytesIO(data)).pages:
            fonts = page["/Resources"]["/Font"]
            names = {str(fonts[k].get_object()["/BaseFont"]) for k in fonts}
            assert names and all("DejaVuSans" in n for n in names), names


def test_payslip_from_the_real_computation() -> None:
    p = s.computed_payslip()
    data = render_payslip_pdf(p, reference="PAY-REAL", test=False)
    pages_text = pages(data)
    assert len(pages_text) == 1
    t = pages_text[0].replace("\u202f", " ")
    assert "NGUYỄN Văn An" in t and "24,375" in t and "29,25" in t
    assert f"Net à payer {format_eur(p.net)}".replace("\u202f", " ") in t
    for note in p.notes:
        assert note[:40] in t.replace("\u00a0", " ") or note[:40].replace("\u00a0", " ") in t.replace("\u00a0", " ")


def test_markup_from_data_opens_nothing() -> None:
    for data in (render_ack_pdf(s.ack()), declaration_pdf(), render_payslip_pdf(s.payslip(), reference="P", test=False)):
        assert b"/Subtype /Image" not in data and b"/XObject" not in data and b"/URI" not in data


def test_toolkit_is_set_up_once_and_accelerated() -> None:
    from reportlab.pdfbase import pdfmetrics

    from gateway.render import fonts

    before = pdfmetrics.getRegisteredFontNames()
    fonts._register_fonts()
    assert pdfmetrics.getRegisteredFontNames() == before
    assert fonts.ACCELERATED


def test_same_bytes_in_another_process() -> None:
    """A restarted worker (other hash seed, other documents rendered before) writes the very same bytes."""
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    script = (
        "import hashlib, render_samples as s\n"
        "from gateway.render.payslip_pdf import render_payslip_pdf\n"
        "render_payslip_pdf(s.payslip(employee_name='Autre'), reference='X', test=True)\n"
        "print(hashlib.sha256(render_payslip_pdf(s.payslip(), reference='P', test=False)).hexdigest())\n"
        "from gateway.render.ack_pdf import render_ack_pdf\n"  # the acknowledgements drawn in a fresh process
        "print(hashlib.sha256(render_ack_pdf(s.ack())).hexdigest())\n"
        "print(hashlib.sha256(render_ack_pdf(s.typical_ack())).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": f"{here.parents[1]}{os.pathsep}{here}"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    declaration_pdf()  # here, other font subsets first (the per-process caches must not change a byte)
    render_payslip_pdf(s.payslip(employee_name="Ωmega Ünïcode Ærø"), reference="X", test=True)
    mine = [hashlib.sha256(render_payslip_pdf(s.payslip(), reference="P", test=False)).hexdigest()]
    mine += [hashlib.sha256(render_ack_pdf(a)).hexdigest() for a in (s.ack(), s.typical_ack())]
    assert out.stdout.split() == mine
