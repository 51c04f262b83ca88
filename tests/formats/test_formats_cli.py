"""``gateway validate``: exit codes, human and JSON output, offline and with --subscriber."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA

from gateway.cli import Context, cli

VALID = [
    str(DATA / n)
    for n in ("declaration-valid.xml", "declaration-valid.csv", "payslip-valid.xml", "payslip-valid.csv")
]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", "--today", "2026-11-25", *args])
    return result.exit_code, result.output


def test_valid_files_exit_0() -> None:
    code, out = run(*VALID)
    assert code == 0, out
    assert out.count(": valide") == 4


def test_invalid_file_exit_1_with_located_findings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text((DATA / "declaration-valid.xml").read_text().replace("<hours>169.00", "<hours>800"))
    code, out = run(str(bad))
    assert code == 1
    assert "erreur XML_SCHEMA ligne 7 (/declarations/declaration[1]/employee[1]/hours[1])" in out
    assert "attendu : nombre d'heures" in out


def test_rule_findings_per_declaration_and_warnings_keep_exit_0() -> None:
    late = CliRunner().invoke(cli, ["validate", "--today", "2026-12-11", VALID[0]])
    assert late.exit_code == 0
    assert "acceptée (en retard)" in late.output and "avertissement DECL_LATE" in late.output
    early = CliRunner().invoke(cli, ["validate", "--today", "2026-11-02", VALID[0]])
    assert early.exit_code == 1 and "DECL_PERIOD_NOT_OPEN" in early.output and "refusée" in early.output


def test_missing_file_exit_2() -> None:
    code, out = run(VALID[0], "/nonexistent/file.xml")
    assert code == 2 and "non vérifié" in out


def test_json_shape(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text((DATA / "declaration-valid.csv").read_text().replace("3250,00", "3 250,00"))
    code, out = run("--json", VALID[0], str(bad))
    assert code == 1
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["valid"] is False
    good, broken = doc["files"]
    assert good["valid"] and good["kind"] == "declaration" and good["format"] == "xml"
    assert good["items"][0] == {
        "index": 1,
        "employer": "104512",
        "period": "2026-11",
        "valid": True,
        "late": False,
        "findings": [],
        "total_findings": 0,
        "employees": 3,
    }
    f = broken["findings"][0]
    assert f == {
        "code": "CSV_NUMBER_INVALID",
        "severity": "error",
        "message": f["message"],
        "line": 2,
        "column": 8,
        "xpath": None,
        "field": "gross",
        "expected": f["expected"],
    }
    assert broken["format"] == "csv" and broken["items"] == []


class FakeStore:
    def __init__(self) -> None:
        from test_formats_rules import FakeView

        self.view = FakeView()

    def records_view(self, subscriber: str) -> object:
        return self.view


def test_with_subscriber_runs_the_record_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    store = FakeStore()
    monkeypatch.setattr(Context, "store", property(lambda self: store))
    args = ["validate", "--today", "2026-11-25", "--subscriber", "10001", VALID[0]]
    assert CliRunner().invoke(cli, args).exit_code == 0
    del store.view.employees["2009876"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "DECL_REGISTRATION_UNKNOWN" in result.output
    other = CliRunner().invoke(cli, ["validate", "--today", "2026-11-25", "--subscriber", "20002", VALID[0]])
    assert other.exit_code == 1 and "DECL_EMPLOYER_NOT_ASSIGNED" in other.output


def test_help_documents_the_command() -> None:
    out = CliRunner().invoke(cli, ["validate", "--help"]).output
    assert "--subscriber" in out and "--json" in out and "Exit status" in out
