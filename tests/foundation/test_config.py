from __future__ import annotations

import re
import tomllib
from dataclasses import fields, is_dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from gateway import config
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_gateway(tmp_path: Path) -> None:
    c = config.parse({}, base_dir=tmp_path)
    assert c.database_url == f"sqlite:///{tmp_path}/gateway.db"
    assert c.inbox == tmp_path / "inbox"
    assert str(c.tz) == "Europe/Monaco"
    assert c.declarations.period_open_day == 20


@pytest.mark.parametrize(
    ("data", "key", "hint"),
    [
        ({"databse": {}}, "databse", "database"),
        ({"sftp": {"prot": 2222}}, "sftp.prot", "port"),
        ({"intake": {"settle_second": 1}}, "intake.settle_second", "settle_seconds"),
        ({"sftp": {"port": "2222"}}, "sftp.port", None),
        ({"sftp": {"enabled": 1}}, "sftp.enabled", None),
        ({"gateway": {"timezone": "Europe/Monac"}}, "gateway.timezone", None),
        ({"declarations": {"period_open_day": 31}}, "declarations.period_open_day", None),
        ({"mail": {"mode": "pigeon"}}, "mail.mode", None),
    ],
)
def test_a_wrong_key_is_named_and_a_misspelling_gets_a_suggestion(data: dict, key: str, hint: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(data)
    assert err.value.key == key
    assert key in str(err.value)
    if hint:
        assert f"« {hint} »" in str(err.value)


def test_the_example_works_unedited_and_documents_every_setting() -> None:
    path = ROOT / "config.example.toml"
    c = config.load(path)
    assert c == config.Config(base_dir=ROOT, source=str(path)), "the example must spell out the defaults"
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text, parse_float=Decimal)
    for section in fields(config.Config):
        if not is_dataclass(section.default_factory):  # type: ignore[arg-type]
            continue
        assert section.name in data, f"[{section.name}] missing from config.example.toml"
        for f in fields(section.default_factory):  # type: ignore[arg-type]
            assert f.name in data[section.name], f"{section.name}.{f.name} missing from config.example.toml"
            # each setting has a comment line right above it
            assert re.search(rf"#[^\n]*\n{re.escape(f.name)} =", text), f"{section.name}.{f.name} has no comment"


def test_env_var_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "c.toml"
    p.write_text('[sftp]\nport = 2300\n[intake]\nsettle_seconds = 1.5\n')
    monkeypatch.setenv(config.ENV_VAR, str(p))
    c = config.load()
    assert c.sftp.port == 2300 and c.intake.settle_seconds == 1.5 and c.base_dir == tmp_path


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[sftp\n")
    with pytest.raises(ConfigError, match="c.toml"):
        config.load(p)
