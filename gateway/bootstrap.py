"""``gateway init``: the working folders and the database, idempotently; returns what it did, in French."""

from __future__ import annotations

from gateway.config import Config
from gateway.store.repo import Store


def initialise(config: Config) -> list[str]:
    lines = []
    for label, path in (("dépôt (inbox)", config.inbox), ("retour (outbox)", config.outbox),
                        ("travaux (jobs)", config.jobs_dir)):
        path.mkdir(parents=True, exist_ok=True)
        lines.append(f"{label:<16} {path}")
    store = Store.connect(config)
    try:
        before, after = store.upgrade()
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
