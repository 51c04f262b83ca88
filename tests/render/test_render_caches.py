"""The per-process caches of the PDF toolkit change no byte: a document drawn with them full, empty or
filled by other documents is the same, and every shortcut gives what ReportLab itself gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
import render_samples as s
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from gateway.render import fonts, ops, wrap
from gateway.render.ack_pdf import render_ack_pdf
from gateway.render.declaration_pdf import render_declaration_pdf
from gateway.render.payslip_pdf import render_payslip_pdf

TEXTS = (
    "", " ", "Total", "Cotisations patronales (part employeur)", "12\u202f345,67\u00a0€", "« CAR » — 6,85 %",
    "Łukasz ŻÓŁĆ", "NGUYỄN Văn An", "Ægir ÞÓRSSON", "a\\b(c)d", "œuvre Œ…", "ñ", "tab\there", "\ufffd", "漢字",
)  # fmt: skip


MANY = "".join(map(chr, [*range(0x410, 0x450), *range(0x391, 0x3A2), *range(0x3A3, 0x3C9),
                         *range(0x100, 0x17F)]))


def _forget_everything() -> None:
    """Every per-process cache of gateway.render.fonts and .sheets emptied, font subsets and their objects included."""
    for cache in (ops._SHOWN, wrap._WRAPPED, wrap._WRAPPED_RUNS, ops._NUMBERS):
        cache.clear()
    for name in (fonts.FONT, fonts.FONT_BOLD):
        pdfmetrics.getFont(name).__dict__.get("_subsets", {}).clear()


def _documents() -> list[Callable[[], bytes]]:
    return [
        lambda: render_ack_pdf(s.typical_ack()),
        lambda: render_ack_pdf(s.ack(capped=True, test=True)),
        lambda: render_declaration_pdf(
            s.declaration(), reference="DEC-1", employer_name=s.HOSTILE, employer_address="Monaco",
            received_at=datetime(2026, 12, 11, 9, 15, tzinfo=s.MONACO), names=s.DECL_NAMES,
            registrations=s.DECL_REGISTRATIONS, funds=s.FUNDS, late=False, test=False,
        ),
        lambda: render_payslip_pdf(s.payslip(), reference="P", test=False),
        lambda: render_payslip_pdf(s.payslip(employee_name="Ωmega Ünïcode Ærø 漢字"), reference="X", test=True),
        # a name of 246 letters more: a second bold subset, so the regular font's objects get other numbers
        lambda: render_payslip_pdf(s.payslip(employee_name=MANY), reference="P", test=False),
    ]  # fmt: skip


def test_the_same_bytes_with_caches_empty_full_or_filled_by_others() -> None:
    _forget_everything()
    cold = [render() for render in _documents()]
    assert [render() for render in _documents()] == cold  # caches full of these very documents
    _forget_everything()
    backwards = [render() for render in reversed(_documents())]  # other subsets and numberings first
    assert list(reversed(backwards)) == cold
    _forget_everything()
    render_payslip_pdf(s.payslip(employee_name="Zoë Ångström"), reference="Y", test=True)
    assert [render() for render in _documents()] == cold


@pytest.mark.parametrize("name", [fonts.FONT, fonts.FONT_BOLD])
def test_fixed_codes_are_what_reportlab_assigns(name: str) -> None:
    """A text of fixed-code characters is encoded as ReportLab's splitString would encode it in a sheet's
    document, and a text with another character is left to ReportLab."""
    font = pdfmetrics.getFont(name)
    for text in TEXTS:
        doc = fonts._Seeded()
        font.state[doc] = fonts.seeded_state(name)
        mine = font.splitString(text, doc)
        literal = ops._shown(name, text)
        reference = fonts._Seeded()
        TTFont.splitString(font, fonts.SEED, reference)
        theirs = TTFont.splitString(font, text, reference)
        assert mine == theirs, text
        if not text:  # never drawn (Sheet.text leaves empty texts out)
            assert theirs == []
        elif literal is not None:
            assert theirs == [(0, theirs[0][1])] and literal == f"({escapePDF(theirs[0][1])}) Tj", text
        else:
            assert any(c not in fonts.SEED and not (" " <= c <= "~") and c != "\u00a0" for c in text), text
        del font.state[doc], font.state[reference]


def test_numbers_and_pdfdoc_encoding_are_reportlabs() -> None:
    from reportlab.lib.rl_accel import fp_str

    numbers = ((0.0,), (-0.0,), (1,), (1.0,), (39.68504, 792.2047), (0.35, 0.35, 0.35), (1e-7,), (12345.678,))
    for values in numbers:
        assert ops._fp(*values) == fp_str(*values)
        assert ops._fp(*values) == fp_str(*values)  # and from the cache
    assert pdfdoc.pdfdocEnc.memoized
    for text in ("/Type", "0 R", "1 0 obj\n", "déclaration", b"bytes"):
        assert pdfdoc.pdfdocEnc(text) == pdfdoc.pdfdocEnc(text) == (
            text.encode("extpdfdoc") if isinstance(text, str) else text
        )


def test_wrap_from_the_cache_is_a_fresh_list() -> None:
    first = wrap.wrap("Cotisations patronales " * 8, fonts.FONT, 8, 120)
    first.append("changed")
    again = wrap.wrap("Cotisations patronales " * 8, fonts.FONT, 8, 120)
    assert "changed" not in again and len(again) == len(first) - 1


def test_payslip_xml_rate_values_from_the_cache_are_the_elements_built_afresh() -> None:
    """Each dated value's element is built once per process and copied: the bytes are those built element by
    element (the cache emptied before each), for payslips drawn in any order."""
    from gateway.render import payslip_xml

    slips = [s.computed_payslip(), s.payslip(), s.computed_payslip(employer_name="Autre employeur")]
    fresh = []
    for slip in slips:
        payslip_xml._RATE_USES.clear()
        fresh.append(payslip_xml.render_payslip_xml(slip, reference="GW-1-P1", test=False))
    assert payslip_xml._RATE_USES, "the cache is used"
    for slip, expected in reversed(list(zip(slips, fresh, strict=True))):
        assert payslip_xml.render_payslip_xml(slip, reference="GW-1-P1", test=False) == expected
    assert fresh[0].count(b"<rate-use>") > 3 and b"xmlns=" not in fresh[0].split(b">", 2)[2], \
        "copied elements carry no namespace declaration of their own"
