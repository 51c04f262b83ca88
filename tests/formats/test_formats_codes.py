"""The code registry, the error catalogue (docs/errors.md) and the tests agree."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.codes import CODES
from gateway.domain import Severity

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "errors.md"
# A code's section in the catalogue: "### CODE" then a "Gravité : erreur|avertissement" line.
_SECTION = re.compile(r"^### ([A-Z][A-Z0-9_]+)\s*$", re.MULTILINE)
_SEVERITY_FR = {Severity.ERROR: "erreur", Severity.WARNING: "avertissement"}


def _sections() -> dict[str, str]:
    text = CATALOGUE.read_text()
    heads = list(_SECTION.finditer(text))
    return {
        m.group(1): text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        for i, m in enumerate(heads)
    }


def test_every_code_documented_with_its_severity_and_an_example() -> None:
    sections = _sections()
    assert set(sections) == set(CODES), (set(CODES) - set(sections), set(sections) - set(CODES))
    for code, (severity, _title) in CODES.items():
        body = sections[code]
        assert f"Gravité : {_SEVERITY_FR[severity]}" in body, code
        assert "Exemple" in body and "Emplacement" in body, code


def test_every_code_exercised_by_a_test() -> None:
    tests = "".join(
        p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != Path(__file__).name
    )
    untested = [c for c in CODES if f'"{c}"' not in tests]
    assert not untested, f"codes no test mentions: {untested}"


def test_codes_are_stable_shapes() -> None:
    for code in CODES:
        assert re.fullmatch(r"(FILE|XML|CSV|DECL|PAYSLIP|PAY|RATE|SUBSCRIBER|TECHNICAL)_[A-Z0-9_]+", code), (
            code
        )
