"""Remote mode end to end against a real OpenSSH sshd on 127.0.0.1: pull, intake, push back; refusals lose nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway import remote
from gateway.config import Config
from gateway.errors import TransportError
from gateway.store.intake import IntakeStore
from gateway.store.models import Declaration, Document, ReceivedFile
from tests.conftest import PG_URL, make_config
from tests.intake.helpers import NOW, decl, declaration_xml, gateway, pipeline, write_config
from tests.transport.openssh_kit import SSHD, KeyPair, Sshd, keygen

pytestmark = pytest.mark.skipif(SSHD is None, reason="OpenSSH server (sshd) not installed")

SUBSCRIBER = "100001"  # demo data: declares for employer 104512


@pytest.fixture
def client_key(tmp_path: Path) -> KeyPair:
    return keygen(tmp_path / "gateway_ed25519")


@pytest.fixture
def sshd(tmp_path: Path, client_key: KeyPair) -> Iterator[Sshd]:
    server = Sshd(tmp_path / "sshd", [client_key]).start()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The remote server's tree: one inbox and one outbox per subscriber."""
    root = tmp_path / "remote"
    (root / "inbox" / SUBSCRIBER).mkdir(parents=True)
    (root / "outbox" / SUBSCRIBER).mkdir(parents=True)
    return root


def remote_settings(sshd: Sshd, key: KeyPair, site: Path, home: Path, **extra: object) -> dict[str, object]:
    settings: dict[str, object] = {
        "enabled": True, "host": "127.0.0.1", "port": sshd.port, "user": sshd.user,
        "key_file": str(key.private), "known_hosts": str(sshd.known_hosts(home / "pinned_known_hosts")),
        "inbox": f"{site}/inbox/{{subscriber}}", "outbox": f"{site}/outbox/{{subscriber}}",
        "subscribers": [SUBSCRIBER], "settle_seconds": 0, "connect_timeout_seconds": 5, "retries": 1,
        "backoff_seconds": Decimal("0.05"),
    }
    settings.update(extra)
    return settings


@pytest.fixture
def rconfig(home: Path, sshd: Sshd, client_key: KeyPair, site: Path) -> Iterator[Config]:
    yield make_config(home, remote=remote_settings(sshd, client_key, site, home))
    remote.close()


def put(site: Path, name: str, data: bytes, subscriber: str = SUBSCRIBER) -> Path:
    path = site / "inbox" / subscriber / name
    path.write_bytes(data)
    return path


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def count(store: object, model: type) -> int:
    with store.tx() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).select_from(model)))


def test_round_trip_pull_intake_push(rconfig: Config, demo_store: object, site: Path) -> None:
    data = declaration_xml(decl())
    put(site, "novembre.xml", data)
    put(site, ".hidden.xml", b"<x/>")
    put(site, "later.xml.part", b"<x/>")
    p = pipeline(rconfig, demo_store)

    assert remote.pull(rconfig, demo_store, releases=p.releases) == 1  # type: ignore[arg-type]
    local = rconfig.inbox / SUBSCRIBER
    assert (local / "novembre.xml").read_bytes() == data
    assert list((local / remote.WORK_DIR).iterdir()) == [], "no temporary file left"
    assert sorted(os.listdir(site / "inbox" / SUBSCRIBER)) == [".hidden.xml", "later.xml.part"], "taken file removed"

    summary = p.run_once()
    assert summary.received == 1 and summary.outcomes == {"accepted": 1}
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(ReceivedFile.sha256)) == hashlib.sha256(data).hexdigest()

    pushed = remote.push(rconfig, demo_store)  # type: ignore[arg-type]
    assert pushed == count(demo_store, Document) >= 3  # acknowledgement XML and PDF, declaration PDF
    mirrored = tree(site / "outbox" / SUBSCRIBER)
    assert mirrored == tree(rconfig.outbox / SUBSCRIBER), "the remote outbox mirrors the local one"
    assert any(n.startswith("acknowledgements/novembre.xml.") and n.endswith(".ack.xml") for n in mirrored)
    assert not any(".part" in n for n in mirrored)
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        assert all(d.pushed_at is not None and d.pushed_sha256 == d.sha256 for d in s.scalars(select(Document)))

    # a second round finds nothing and pushes nothing new
    assert remote.pull(rconfig, demo_store, releases=p.releases) == 0  # type: ignore[arg-type]
    assert not p.run_once().busy
    assert remote.push(rconfig, demo_store) == 0  # type: ignore[arg-type]

    # the retention removes a document from the local outbox: its remote copy goes too
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        doc = s.scalars(select(Document).where(Document.kind == "ack-pdf")).one()
        doc.removed_at = doc.created_at
    (rconfig.outbox / doc.path).unlink()
    assert remote.push(rconfig, demo_store) == 0  # type: ignore[arg-type]
    assert tree(site / "outbox" / SUBSCRIBER) == tree(rconfig.outbox / SUBSCRIBER)
    assert doc.path.removeprefix(f"{SUBSCRIBER}/") in mirrored
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        assert s.get(Document, doc.id).pushed_sha256 is None


def test_a_document_delivered_again_with_other_bytes_is_pushed_again(
    rconfig: Config, demo_store: object, site: Path
) -> None:
    put(site, "novembre.xml", declaration_xml(decl()))
    p = pipeline(rconfig, demo_store)
    remote.pull(rconfig, demo_store, releases=p.releases)  # type: ignore[arg-type]
    p.run_once()
    remote.push(rconfig, demo_store)  # type: ignore[arg-type]
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        doc = s.scalars(select(Document).where(Document.kind == "ack-xml")).one()
    local = rconfig.outbox / doc.path
    local.write_bytes(b"<acknowledgement v='2'/>")
    IntakeStore(demo_store).add_document(  # type: ignore[arg-type]
        kind=doc.kind, path=doc.path, sha256=hashlib.sha256(local.read_bytes()).hexdigest(), size=local.stat().st_size,
        subscriber_id=doc.subscriber_id, received_file_id=doc.received_file_id, created_at=doc.created_at)
    assert remote.push(rconfig, demo_store) == 1  # type: ignore[arg-type]
    assert (site / "outbox" / doc.path).read_bytes() == b"<acknowledgement v='2'/>"


def test_unsafe_and_colliding_names_become_safe_local_names(rconfig: Config, demo_store: object, site: Path) -> None:
    put(site, "déclaration novembre;1.xml", b"<a/>")
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]
    put(site, "déclaration novembre;1.xml", b"<b/>")  # same name again before the intake took the first
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]
    local = rconfig.inbox / SUBSCRIBER
    assert (local / "d_claration_novembre_1.xml").read_bytes() == b"<a/>"
    assert (local / "d_claration_novembre_1 (2).xml").read_bytes() == b"<b/>", "never overwritten"
    assert remote.local_name("x.tmp\u00e9") == "x.tmp_", "never a name the intake would ignore"
    assert remote.local_name("..") == "envoi"


def test_a_crash_before_the_remote_removal_is_answered_as_a_duplicate(
    rconfig: Config, demo_store: object, site: Path
) -> None:
    data = declaration_xml(decl())
    put(site, "novembre.xml", data)
    p = pipeline(rconfig, demo_store)
    remote.pull(rconfig, demo_store, releases=p.releases)  # type: ignore[arg-type]
    p.run_once()
    put(site, "novembre.xml", data)  # as if the process died between the local commit and the removal
    remote.close()  # a new process: nothing remembered
    assert remote.pull(rconfig, demo_store, releases=p.releases) == 1  # type: ignore[arg-type]
    summary = p.run_once()
    assert summary.duplicates == 1 and summary.received == 0
    assert count(demo_store, Declaration) == 1 and count(demo_store, ReceivedFile) == 1, "recorded once"
    remote.push(rconfig, demo_store)  # type: ignore[arg-type]
    assert any("duplicate" in n for n in tree(site / "outbox" / SUBSCRIBER)), "the duplicate is answered"


def test_a_failed_removal_is_retried_without_downloading_again(
    rconfig: Config, demo_store: object, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(site, "a.xml", b"<a/>")
    lk = remote.link(rconfig)

    def refuse(_fetched: object) -> None:
        raise TransportError("retrait de 'a.xml': Permission denied")

    monkeypatch.setattr(lk.transport, "ack", refuse)
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]
    assert (site / "inbox" / SUBSCRIBER / "a.xml").exists(), "kept on the server while its removal fails"
    monkeypatch.undo()
    assert remote.pull(rconfig, demo_store) == 0, "not downloaded again"  # type: ignore[arg-type]
    assert os.listdir(site / "inbox" / SUBSCRIBER) == []
    assert sorted(p.name for p in (rconfig.inbox / SUBSCRIBER).iterdir()) == [remote.WORK_DIR, "a.xml"]

    # an owed name uploaded again with other bytes is a new file: downloaded, never removed unread
    put(site, "b.xml", b"<b/>")
    monkeypatch.setattr(lk.transport, "ack", refuse)
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]
    monkeypatch.undo()
    os.utime(put(site, "b.xml", b"<b2/>"), (1, 1))
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]
    assert (rconfig.inbox / SUBSCRIBER / "b (2).xml").read_bytes() == b"<b2/>"


def test_archive_instead_of_removal(home: Path, sshd: Sshd, client_key: KeyPair, site: Path, demo_store: object) -> None:
    config = make_config(home, remote=remote_settings(sshd, client_key, site, home,
                                                      archive=f"{site}/archive/{{subscriber}}"))
    try:
        put(site, "a.xml", b"<a/>")
        assert remote.pull(config, demo_store) == 1  # type: ignore[arg-type]
    finally:
        remote.close()
    assert os.listdir(site / "inbox" / SUBSCRIBER) == []
    (archived,) = os.listdir(site / "archive" / SUBSCRIBER)
    assert archived.endswith("-a.xml") and (site / "archive" / SUBSCRIBER / archived).read_bytes() == b"<a/>"


def test_changed_host_key_is_refused_and_nothing_is_lost(
    rconfig: Config, demo_store: object, site: Path, sshd: Sshd, home: Path
) -> None:
    data = declaration_xml(decl())
    put(site, "novembre.xml", data)
    p = pipeline(rconfig, demo_store)
    remote.pull(rconfig, demo_store, releases=p.releases)  # type: ignore[arg-type]
    p.run_once()  # documents waiting to be pushed
    put(site, "decembre.xml", b"<b/>")
    sshd.replace_host_key()
    # The key is checked at each connection: the open one (served by its own sshd child) would go on, so
    # start from a new one, as after a restart of the gateway or a dropped connection.
    remote.close()

    with pytest.raises(TransportError, match="CHANGÉE"):
        remote.pull(rconfig, demo_store)  # type: ignore[arg-type]
    with pytest.raises(TransportError, match="CHANGÉE"):
        remote.push(rconfig, demo_store)  # type: ignore[arg-type]
    assert remote.pull_logged(rconfig, demo_store) is None, "the daemon logs it and goes on"  # type: ignore[arg-type]
    assert remote.push_logged(rconfig, demo_store) is None  # type: ignore[arg-type]
    assert (site / "inbox" / SUBSCRIBER / "decembre.xml").read_bytes() == b"<b/>", "still on the server"
    assert not (rconfig.inbox / SUBSCRIBER / "decembre.xml").exists()
    assert os.listdir(site / "outbox" / SUBSCRIBER) == [], "nothing sent to an impostor"
    with demo_store.tx() as s:  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).where(Document.pushed_at.is_not(None))) == 0

    # the operator checks the new key with the server's administrator and pins it: everything flows again
    sshd.known_hosts(home / "pinned_known_hosts")
    remote.close()
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]
    assert remote.push(rconfig, demo_store) == count(demo_store, Document)  # type: ignore[arg-type]


@pytest.mark.skipif(not PG_URL, reason="several instances share one database on PostgreSQL only")
def test_one_instance_pulls_at_a_time(rconfig: Config, demo_store: object, site: Path) -> None:
    from gateway.store.advisory import AdvisoryLock

    put(site, "novembre.xml", b"<a/>")
    with AdvisoryLock(demo_store, "remote-pull") as held:  # type: ignore[arg-type]
        assert held
        assert remote.pull(rconfig, demo_store) == 0  # type: ignore[arg-type]
        assert os.listdir(site / "inbox" / SUBSCRIBER) == ["novembre.xml"], "left to the instance pulling"
    assert remote.pull(rconfig, demo_store) == 1  # type: ignore[arg-type]


def test_missing_settings_are_named(home: Path, store: object, caplog: pytest.LogCaptureFixture) -> None:
    from gateway.errors import ConfigError

    config = make_config(home, remote={"enabled": True, "host": "sftp.example.mc"})
    with pytest.raises(ConfigError, match="remote.user"):
        remote.pull(config, store)  # type: ignore[arg-type]
    assert remote.pull_logged(config, store) is None  # type: ignore[arg-type]
    (record,) = [r for r in caplog.records if r.getMessage() == "remote.pull.round_failed"]
    assert "remote.user" in record.fields["error"] and not record.exc_info  # type: ignore[attr-defined]


def test_gateway_intake_once_pulls_then_pushes(
    home: Path, sshd: Sshd, client_key: KeyPair, site: Path, demo_store: object
) -> None:
    settings = remote_settings(sshd, client_key, site, home)
    lines = "\n".join(f"{k} = {_toml(v)}" for k, v in settings.items())
    config_path = write_config(home, f"[remote]\n{lines}\n")
    put(site, "novembre.xml", declaration_xml(decl()))
    result = gateway(config_path, "intake", "--once", "--inline")
    assert result.returncode == 0, result.stderr
    assert os.listdir(site / "inbox" / SUBSCRIBER) == []
    mirrored = tree(site / "outbox" / SUBSCRIBER)
    assert any(n.endswith(".ack.xml") for n in mirrored) and any("/declarations/" in n for n in mirrored)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_the_daemon_survives_a_refused_key_then_pulls_and_pushes(
    home: Path, sshd: Sshd, client_key: KeyPair, site: Path, demo_store: object, tmp_path: Path
) -> None:
    settings = remote_settings(sshd, client_key, site, home)
    pinned = Path(str(settings["known_hosts"]))
    keygen(tmp_path / "impostor")  # pin some other key: every connection is refused
    pinned.write_text(f"[127.0.0.1]:{sshd.port} " + " ".join(
        (tmp_path / "impostor.pub").read_text().split()[:2]) + "\n")
    lines = "\n".join(f"{k} = {_toml(v)}" for k, v in settings.items())
    config_path = write_config(home, f"[remote]\n{lines}\n")
    put(site, "novembre.xml", declaration_xml(decl()))
    env = {**os.environ, "GATEWAY_FAKE_NOW": NOW.isoformat()}
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(config_path), "run", "--poll", "0.5"],
                                env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        assert wait_for(lambda: log_path.read_text().count("remote.pull.round_failed") >= 2), "no refused round"
        assert proc.poll() is None, "the daemon keeps running"
        assert os.listdir(site / "inbox" / SUBSCRIBER) == ["novembre.xml"], "nothing taken from an unverified host"
        assert "CHANGÉE" in log_path.read_text(encoding="utf-8"), "the refusal names the changed key"
        sshd.known_hosts(pinned)  # the operator pins the right key: the next round connects
        assert wait_for(lambda: any(n.endswith(".ack.xml") for n in tree(site / "outbox" / SUBSCRIBER))), \
            "no acknowledgement pushed"
        assert os.listdir(site / "inbox" / SUBSCRIBER) == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0, log_path.read_text()[-3000:]


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()
