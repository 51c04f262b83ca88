"""Building blocks of the intake tests: a gateway home with demo data, files to drop, a pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import xmlschema
from lxml import etree

from gateway import config as config_mod
from gateway import demo
from gateway.clock import Clock
from gateway.config import Config
from gateway.formats.xsd import schemas_dir
from gateway.pipeline import Pipeline
from gateway.render.ack_xml import check_ack_xml
from gateway.store.repo import Store
from gateway.workers import InlinePool
from tests.conftest import PG_URL, reset_postgres

MONACO = ZoneInfo("Europe/Monaco")
NOW = datetime(2026, 11, 26, 10, 30, tzinfo=MONACO)


def declaration_xml(*declarations: str, test: bool = False) -> bytes:
    body = "\n".join(declarations)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<declarations xmlns="urn:csm-gateway:declaration:1" software="tests" '
            f'test="{"true" if test else "false"}">\n{body}\n</declarations>\n').encode()


def decl(employer: str = "104512", period: str = "2026-11", lines: str | None = None) -> str:
    lines = lines or ('<employee registration="2001234"><gross>3250.00</gross><hours>169.00</hours></employee>'
                      '<employee registration="2001235"><gross>2100.50</gross><hours>151.67</hours></employee>')
    return f'<declaration employer="{employer}" period="{period}">{lines}</declaration>'


NEW_HIRE = ('<employee><last-name>MARTIN</last-name><first-name>Paul</first-name>'
            '<birth-date>1994-06-30</birth-date><gross>1200.00</gross><hours>80.00</hours>'
            '<event type="hire" start="2026-11-17"/></employee>')


def drop(config: Config, subscriber: str, name: str, data: bytes) -> Path:
    folder = config.inbox / subscriber
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (0, 0))  # old enough to be settled
    return path


def pipeline(config: Config, store: object, now: datetime = NOW) -> Pipeline:
    return Pipeline(config, store, clock=Clock(MONACO, now), pool=InlinePool())  # type: ignore[arg-type]


def outbox_files(config: Config) -> dict[str, bytes]:
    root = config.outbox
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_config(home: Path, extra: str = "") -> Path:
    url = PG_URL or "sqlite:///gateway.db"
    path = home / "gateway.toml"
    path.write_text(f'[database]\nurl = "{url}"\n[sftp]\nenabled = false\n[intake]\nsettle_seconds = 0\n{extra}')
    return path


def gateway(config_path: Path, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "GATEWAY_FAKE_NOW": NOW.isoformat(), **(env or {})}
    result = subprocess.run([sys.executable, "-m", "gateway", "--config", str(config_path), *args],
                            capture_output=True, text=True, env=full_env, timeout=300, check=False)
    if check and result.returncode not in (0, 1):
        raise AssertionError(f"gateway {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def fresh_home(root: Path, extra: str = "") -> tuple[Path, Config]:
    """A new gateway home at ``root`` (its config, an upgraded empty database, the demo data)."""
    root.mkdir()
    path = write_config(root, extra)
    if PG_URL:
        reset_postgres(PG_URL)
    config = config_mod.load(path)
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    store.close()
    return path, config


def ack_of(files: dict[str, bytes], suffix: str = ".ack.xml") -> etree._Element:
    """The one acknowledgement among ``files`` (duplicates' aside), checked against its schema."""
    (name,) = [n for n in files if n.endswith(suffix) and "duplicate" not in n]
    check_ack_xml(files[name])
    return etree.fromstring(files[name])


@cache
def _payslip_result_schemas() -> tuple[xmlschema.XMLSchema, etree.XMLSchema]:
    path = schemas_dir() / "payslip-result-1.xsd"
    return xmlschema.XMLSchema(str(path)), etree.XMLSchema(etree.parse(str(path)))


def payslips_of(files: dict[str, bytes]) -> dict[str, etree._Element]:
    """Every payslip XML among ``files`` (by name), each checked against schemas/payslip-result-1.xsd with
    both xmlschema and lxml, independently of the gateway's own check."""
    by_xmlschema, by_lxml = _payslip_result_schemas()
    out = {}
    for name in sorted(n for n in files if "/payslips/" in n and n.endswith(".xml")):
        by_xmlschema.validate(files[name].decode("utf-8"))
        root = etree.fromstring(files[name])
        by_lxml.assertValid(root)
        out[name] = root
    return out
