"""The recovery department records corrections next to the original; they show in the history."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.corrections import correct
from gateway.errors import InputError
from tests.intake.helpers import decl, declaration_xml, drop, pipeline


def test_complementary_declaration_next_to_the_original(config, demo_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "a.xml", declaration_xml(decl()))
    p = pipeline(config, demo_store)
    p.run_once()
    fix = tmp_path / "fix.xml"
    fix.write_bytes(declaration_xml(decl(lines=(
        '<employee registration="2001234"><gross>500.00</gross><hours>10.00</hours></employee>'))))
    with pytest.raises(InputError, match="motif"):
        correct(p, "104512", "2026-11", fix, "complementary", " ")
    with pytest.raises(InputError, match="aucune déclaration originale"):
        correct(p, "104513", "2026-11", fix, "complementary", "prime oubliée")
    ref = correct(p, "104512", "2026-11", fix, "complementary", "prime oubliée")
    assert ref.endswith("-D1-C1")
    assert correct(p, "104512", "2026-11", fix, "rectifying", "erreur de saisie").endswith("-D1-C2")
    rows = p.intake.history("104512", "2026-01")
    assert [r.kind for r in rows] == ["original", "complementary", "rectifying"]
    assert rows[1].reason == "prime oubliée" and rows[1].corrects_id == rows[0].id
    assert p.intake.contribution_amounts(rows[1].id), "its contributions are computed and stored"


def test_history_and_show_commands(config, demo_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    drop(config, "100001", "a.xml", declaration_xml(decl()))
    summary = pipeline(config, demo_store).run_once()
    toml = config.home / "gateway.toml"
    from tests.conftest import PG_URL

    toml.write_text(f'[database]\nurl = "{PG_URL or "sqlite:///gateway.db"}"\n[sftp]\nenabled = false\n')
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(toml), "history", "104512"])
    assert out.exit_code == 0 and "originale" in out.output and summary.references[0] in out.output
    ref = summary.references[0] + "-D1"
    out = runner.invoke(cli, ["--config", str(toml), "declaration", "show", ref])
    assert out.exit_code == 0 and "2001234" in out.output and "CAR" in out.output
    out = runner.invoke(cli, ["--config", str(toml), "declaration", "show", "GW-nope"])
    assert out.exit_code == 2
