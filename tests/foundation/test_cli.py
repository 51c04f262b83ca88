from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from gateway.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def walk(group: click.Group, prefix: str = "gateway") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out += walk(cmd, path)
    return out


def test_every_command_has_help_and_is_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing_help = [p for p, c in walk(cli) if not (c.help or "").strip()]
    undocumented = [p for p, _ in walk(cli) if f"`{p}" not in doc]
    assert not missing_help, f"commands without help: {missing_help}"
    assert not undocumented, f"commands missing from docs/cli.md: {undocumented}"


def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(tmp_path / "none.toml"), "subscriber", "list"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "introuvable" in result.output


def test_init_then_demo_data_from_a_fresh_folder(tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.toml"
    cfg.write_text('[sftp]\nenabled = false\n')
    exe = [sys.executable, "-m", "gateway", "--config", str(cfg)]
    first = subprocess.run(exe + ["init"], capture_output=True, text=True, check=True)
    assert "inbox" in first.stdout and (tmp_path / "gateway.db").exists()
    again = subprocess.run(exe + ["init"], capture_output=True, text=True, check=True)
    assert "à jour" in again.stdout
    subprocess.run(exe + ["demo-data"], capture_output=True, text=True, check=True)
    listed = subprocess.run(exe + ["subscriber", "list"], capture_output=True, text=True, check=True)
    assert "100001" in listed.stdout and "200001" in listed.stdout
    missing = subprocess.run(exe + ["subscriber", "show", "999999"], capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    # each subscriber's drop folder and acknowledgements folder exist as soon as it does (the README copies a
    # file into inbox/100001/ without any SFTP login first)
    for number in ("100001", "200001"):
        assert (tmp_path / "inbox" / number).is_dir()
        assert (tmp_path / "outbox" / number / "acknowledgements").is_dir()
    added = subprocess.run(exe + ["subscriber", "add", "300003", "--name", "Cabinet Test", "--password-stdin"],
                           input="un-mot-de-passe-assez-long\n", capture_output=True, text=True, check=True)
    assert str(tmp_path / "inbox" / "300003") in added.stdout
    assert (tmp_path / "outbox" / "300003" / "acknowledgements").is_dir()
    # removed by hand, made again by `gateway init` for every subscriber on record
    (tmp_path / "inbox" / "300003").rmdir()
    subprocess.run(exe + ["init"], capture_output=True, text=True, check=True)
    assert (tmp_path / "inbox" / "300003").is_dir()
