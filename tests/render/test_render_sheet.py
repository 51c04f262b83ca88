"""The canvas layout of the frequent PDFs: wrapping, pagination with repeated headers, one-page payslips."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import datetime

import render_samples as s
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from test_render_pdfs import pages, text

from gateway.domain import Finding, Severity
from gateway.render import fonts, sheets, wrap
from gateway.render.ack_pdf import render_ack_pdf
from gateway.render.declaration_pdf import render_declaration_pdf
from gateway.render.payslip_pdf import render_payslip_pdf


def test_wrap_keeps_every_character_within_the_width() -> None:
    for value, width in (
        (s.LONG_NAME, 120),
        ("DE LA TOUR DU PIN CHAMBLY DE LA CHARCE-MONTGOLFIER-ESCLAVONNIÈRE", 124),
        ("/declarations/declaration[2]/employee[1]/@registration", 104),
        (s.SHA, 90),
        (f"Le matricule 2999999 est inconnu des Caisses {s.IMG}", 142),
        ("Łukasz Żółć  Nguyễn   Văn An", 30),
    ):
        lines = wrap.wrap(value, fonts.FONT, 8, width)
        assert "".join(lines).replace(" ", "") == value.replace(" ", ""), lines
        assert all(pdfmetrics.stringWidth(line, fonts.FONT, 8) <= width for line in lines), lines
    assert wrap.wrap("DE LA TOUR DU PIN CHAMBLY DE LA CHARCE-MONTGOLFIER-ESCLAVONNIÈRE", fonts.FONT, 8, 124) == [
        "DE LA TOUR DU PIN CHAMBLY", "DE LA CHARCE-MONTGOLFIER-", "ESCLAVONNIÈRE"]  # fmt: skip


def _large(employees: int) -> bytes:
    decl, names = s.large_declaration(employees)
    return render_declaration_pdf(
        decl, reference="DEC-2026-11-104512-0009", employer_name=s.HOSTILE, employer_address="Monaco",
        received_at=datetime(2026, 12, 11, 9, 15, tzinfo=s.MONACO), names=names, registrations={},
        funds=s.FUNDS, late=False, test=False,
    )  # fmt: skip


def test_a_large_declaration_paginates_with_its_header_on_every_page() -> None:
    p = pages(_large(300))
    assert len(p) > 3
    for number, page in enumerate(p, start=1):
        assert f"page {number}/{len(p)}" in page and "Réf. DEC-2026-11-104512-0009" in page
        assert "Caisses Sociales de Monaco" in page and "Déclaration de salaires novembre 2026" in page
        assert "Matricule Nom Prénom Dir. Salaire brut Heures" in page  # the table header, repeated
    t = " ".join(p)
    listed = re.findall(r"NOM(\d{4})-", t)
    assert listed == [f"{n:04d}" for n in range(1, 301)]  # every employee once, in order
    assert "Total : 300 salarié(s)" in p[-1] and "Cotisations par caisse" in t
    # an employee and its events are never split across pages
    assert "↳ Maladie du 03/11/2026 au 07/11/2026" in t
    for page in p[1:]:
        assert not re.search(r"Salaire brut Heures ↳", page)


def test_pages_grow_linearly_with_the_workforce() -> None:
    small, large = len(pages(_large(300))), len(pages(_large(1200)))
    assert 3.6 * small <= large + 3 and large <= 4.4 * small


def test_a_row_taller_than_a_page_is_continued_not_lost() -> None:
    message = " ".join(f"mot{n:04d}" for n in range(1500))
    ack = s.ack()
    refused = dataclasses.replace(ack.declarations[1], findings=(Finding("X-LONG", message, Severity.ERROR),))
    data = render_ack_pdf(dataclasses.replace(ack, declarations=(ack.declarations[0], refused)))
    assert re.findall(r"mot\d{4}", text(data)) == [f"mot{n:04d}" for n in range(1500)]


def test_a_table_header_never_ends_a_page_alone() -> None:
    """A table starting near the foot of a page whose first row is tall (a wrapped message): its header goes
    to the next page with that row instead of staying alone at the bottom."""
    for filler in range(40, 70):  # the table's start walks down the first page, past the point it must move
        sheet = sheets.Sheet()
        for n in range(filler):
            sheet.para(f"ligne de remplissage {n}")
        tall = " ".join(f"mot{n:03d}" for n in range(60))  # several lines in its column
        sheet.table([100, 380], ["Code", "Message"], [sheets.Row(["X-TALL", tall]), sheets.Row(["X-NEXT", "court"])])
        p = pages(sheet.render(title="Essai", reference="REF-1"))
        for page in p:
            if "Code Message" in page:
                assert "X-TALL" in page, f"{filler} lines before: the header is alone at the foot of a page"
                break
        else:
            raise AssertionError("no table header")


def test_a_typical_acknowledgement_is_one_page() -> None:
    p = pages(render_ack_pdf(s.typical_ack()))
    assert len(p) == 1
    for expected in ("Statut : Accepté", "Boulangerie du Rocher SARL", "Taux et plafonds appliqués",
                     "Taux CAR salarial 6,85 % 01/10/2025 confirmé",
                     "Taux CCSS patronal 13,45 % 01/10/2025 non confirmé",
                     "gateway rates show --date AAAA-MM-JJ", "page 1/1"):
        assert expected in p[0].replace("\u202f", " "), expected


def test_a_payslip_too_long_for_a_page_is_shrunk_onto_one() -> None:
    notes = tuple(f"Note {n} : {s.LONG_NAME}" for n in range(40))
    data = render_payslip_pdf(dataclasses.replace(s.payslip(), notes=notes), reference="PAY-3", test=False)
    p = pages(data)
    assert len(p) == 1
    assert "Note 39" in p[0] and "Montants en euros" in p[0] and "page 1/1" in p[0]


def test_test_documents_carry_the_watermark_and_banner_on_every_page() -> None:
    data = render_ack_pdf(s.ack(capped=True, test=True))
    for page in pages(data):
        assert "DOCUMENT DE TEST — sans valeur" in page and "TEST" in page.replace("DOCUMENT DE TEST", "")
    assert len(PdfReader(io.BytesIO(data)).pages) > 1

