"""``gateway init``: the working folders and the database, idempotently; returns what it did, in French."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.config import Config
from gateway.store.models import Subscriber
from gateway.store.repo import Store


def subscriber_folders(config: Config, number: str) -> tuple[Path, Path]:
    """A subscriber's drop folder ``inbox/<number>/`` and its ``outbox/<number>/`` with ``acknowledgements/``,
    made when the subscriber is created, by ``gateway init`` and at each SFTP login: a file copied into the
    drop folder, or a script listing its acknowledgements right after its first upload, finds them there."""
    inbox, outbox = config.inbox / number, config.outbox / number
    inbox.mkdir(parents=True, exist_ok=True)
    (outbox / "acknowledgements").mkdir(parents=True, exist_ok=True)
    return inbox, outbox


def initialise(config: Config) -> list[str]:
    lines = []
    for label, path in (("dépôt (inbox)", config.inbox), ("retour (outbox)", config.outbox),
                        ("travaux (jobs)", config.jobs_dir)):
        path.mkdir(parents=True, exist_ok=True)
        lines.append(f"{label:<16} {path}")
    store = Store.connect(config)
    try:
        before, after = store.upgrade()
        with store.tx() as s:
            numbers = s.scalars(select(Subscriber.number).order_by(Subscriber.number)).all()
        for number in numbers:
            subscriber_folders(config, number)
    finally:
        store.close()
    state = "à jour" if before == after else f"créée/mise à jour ({before or 'vide'} → {after})"
    lines.append(f"{'base':<16} {config.database_url}  [{state}]")
    if config.sftp.enabled:
        from gateway.transport.hostkey import ensure_host_key, known_hosts_line

        key_path = config.path(config.sftp.host_key)
        key, fingerprint = ensure_host_key(key_path)
        lines.append(f"{'clé d hôte SFTP':<16} {key_path}  empreinte {fingerprint}")
        lines.append(f"{'known_hosts':<16} {known_hosts_line(key, config.sftp.host, config.sftp.port)}")
    return lines
