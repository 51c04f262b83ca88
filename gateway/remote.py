"""Remote mode: subscribers upload to an existing SFTP server; the gateway pulls their files and pushes its outputs.

    pull   remote inbox → local ``inbox/<subscriber>/`` (then the intake takes it as any upload)
    push   documents delivered into ``outbox/<subscriber>/…`` since the last push → remote outbox, same tree

Pulling one file, in this order, so that nothing is ever lost:

1. download into ``inbox/<subscriber>/.remote-pull/`` (a dot-folder: the intake never looks there), size and
   SHA-256 checked against the remote file and a re-read of the local copy, fsynced
   (:meth:`SftpTransport.fetch`);
2. hard-link it into ``inbox/<subscriber>/`` under the remote name reduced by :func:`gateway.files.safe_name`
   (``decl (2).xml`` when taken: never overwriting), fsync the folder — the local commit;
3. only then remove (or archive) the remote file and its ``.done`` marker.

A crash between 2 and 3 leaves both copies: the next pull downloads the file again and the intake answers
it as a duplicate (same subscriber and SHA-256), recording nothing twice. Within one process a removal
that failed is retried in the next round instead of downloading again — only if the remote file still has
the size and time it had, so a new upload under the same name is never removed unread.

One connection per process, kept between rounds (:func:`link`) and re-opened after a failure by the
transport. Every transfer error is a :class:`TransportError`; the daemon logs it and tries again next round.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TypeVar

from gateway.config import Config
from gateway.errors import ConfigError, GatewayError, TransportError
from gateway.files import fsync_dir, safe_name
from gateway.log import get_logger
from gateway.outbox import Layout
from gateway.receive import Releases, ignored_name
from gateway.store.remote import RemoteStore
from gateway.store.repo import Store
from gateway.transport import Fetched
from gateway.transport.local import check_subscriber, hash_local
from gateway.transport.names import non_colliding
from gateway.transport.sftp_client import RemoteEndpoint, SftpTransport

log = get_logger(__name__)
T = TypeVar("T")

WORK_DIR = ".remote-pull"  # inside inbox/<subscriber>/: a dot-name, never taken by the intake
STALE_SECONDS = 3600.0  # leftovers of a crashed download older than this are removed (the remote copy remains)
_MAX_NAMES = 1000


@dataclass
class Link:
    """The process's connection to the remote server, and the acknowledgements still owed to it."""

    endpoint: RemoteEndpoint
    transport: SftpTransport
    unacked: dict[tuple[str, str], Fetched] = field(default_factory=dict)  # (subscriber, remote name)


_link: Link | None = None
_link_lock = threading.Lock()


def endpoint(config: Config) -> RemoteEndpoint:
    """The remote server of ``[remote]``; a ConfigError naming the first setting missing."""
    r = config.remote
    for key in ("host", "user", "key_file", "known_hosts"):
        if not getattr(r, key):
            raise ConfigError(f"« remote.{key} » est requis quand remote.enabled = true", key=f"remote.{key}")
    return RemoteEndpoint(
        host=r.host, port=r.port, user=r.user, key_file=config.path(r.key_file),
        known_hosts=config.path(r.known_hosts), inbox=r.inbox, outbox=r.outbox, archive=r.archive,
        settle_seconds=r.settle_seconds, connect_timeout=r.connect_timeout_seconds,
        operation_timeout=r.operation_timeout_seconds, retries=r.retries, backoff_seconds=r.backoff_seconds,
    )


def link(config: Config) -> Link:
    """The process's link, kept between rounds; a reloaded configuration naming another server gets a new one."""
    global _link
    wanted = endpoint(config)
    with _link_lock:
        if _link is None or _link.endpoint != wanted:
            if _link is not None:
                _link.transport.close()
            _link = Link(wanted, SftpTransport(wanted))
        return _link


def close() -> None:
    """Close the connection (daemon shutdown, tests)."""
    global _link
    with _link_lock:
        if _link is not None:
            _link.transport.close()
        _link = None


def subscribers(config: Config, store: Store) -> list[str]:
    """The subscribers served through the remote server: the configured list, else every one not disabled."""
    return list(config.remote.subscribers) or RemoteStore(store).active_subscribers()


class _Failures:
    """Transfer errors of one round: a file-level error skips that file, a lost or refused connection ends
    the round (raised: the caller logs it and the next round tries again)."""

    def __init__(self, what: str, transport: SftpTransport) -> None:
        self.what = what
        self.transport = transport

    def attempt(self, op: Callable[..., T], *args: object, subscriber: str) -> tuple[bool, T | None]:
        """``(True, result)``, or ``(False, None)`` after logging a file-level error."""
        try:
            return True, op(*args)
        except TransportError as exc:
            # The transport drops its connection on connection problems and refusals (host key,
            # authentication), never on a file-level error (permission, a file gone).
            if not self.transport.connected:
                raise
            log.error(f"remote.{self.what}.file_failed", subscriber=subscriber, error=str(exc))
            return False, None


# Pull ----------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _one_instance(store: Store, name: str) -> Iterator[bool]:
    """True when this instance may run ``name`` now: always on SQLite (one instance), on PostgreSQL when no
    other instance holds its advisory lock (two pollers would both download a file)."""
    if store.engine.dialect.name != "postgresql":
        yield True
        return
    from gateway.store.advisory import AdvisoryLock

    with AdvisoryLock(store, name) as mine:
        yield mine


def pull(config: Config, store: Store, *, releases: Releases | None = None) -> int:
    """Bring every complete remote upload into the local inboxes; returns how many files came in
    (0 while another instance is pulling)."""
    with _one_instance(store, "remote-pull") as mine:
        return _pull(config, store, releases) if mine else 0


def _pull(config: Config, store: Store, releases: Releases | None) -> int:
    lk = link(config)
    failures = _Failures("pull", lk.transport)
    count = 0
    for subscriber in subscribers(config, store):
        inbox = config.inbox / check_subscriber(subscriber)
        work = inbox / WORK_DIR
        _sweep(work)
        ok, listed = failures.attempt(lk.transport.list_complete, subscriber, subscriber=subscriber)
        if not ok:
            continue
        owed = {name for s, name in lk.unacked if s == subscriber}
        for item in listed or []:
            earlier = lk.unacked.get((subscriber, item.name))
            if earlier is not None:
                if (earlier.incoming.size, earlier.incoming.mtime) == (item.size, item.mtime):
                    _ack(lk, failures, earlier)  # here already: only its removal is owed
                    continue
                del lk.unacked[(subscriber, item.name)]  # a new upload under that name: the one we hold is gone
            _ok, fetched = failures.attempt(lk.transport.fetch, item, work, subscriber=subscriber)
            if fetched is None:
                continue  # gone, changed since listed, or failed: listed again next round
            name = _commit_locally(fetched, inbox)
            count += 1
            log.info("remote.pulled", subscriber=subscriber, remote_name=item.name, local_name=name,
                     size=fetched.size, sha256=fetched.sha256)
            if releases is not None:
                releases.release(subscriber, name)  # complete for sure: no settle time in the local inbox
            _ack(lk, failures, fetched)
        for name in owed - {item.name for item in listed or []}:
            lk.unacked.pop((subscriber, name), None)  # gone, or being rewritten: nothing of ours to remove
    return count


def _ack(lk: Link, failures: _Failures, fetched: Fetched) -> None:
    """Remove (or archive) the remote file now committed locally; owed to the next round if that fails."""
    key = (fetched.incoming.subscriber, fetched.incoming.name)
    lk.unacked[key] = fetched  # until the removal is confirmed (kept if the round ends on this error)
    if failures.attempt(lk.transport.ack, fetched, subscriber=key[0])[0]:
        del lk.unacked[key]


def local_name(remote_name: str) -> str:
    """The local form of a remote name: safe characters only, and never a name the intake ignores."""
    name = safe_name(remote_name, default="envoi")
    return name + "_" if ignored_name(name) else name


def _commit_locally(fetched: Fetched, inbox: Path) -> str:
    """Publish the checked download in the local inbox under a free safe name (never overwriting); durable."""
    base = local_name(fetched.incoming.name)
    for n in range(1, _MAX_NAMES + 1):
        name = base if n == 1 else non_colliding(base, n)
        try:
            os.link(fetched.path, inbox / name)  # atomic, and fails rather than replace an existing file
        except FileExistsError:
            continue
        os.unlink(fetched.path)
        fsync_dir(inbox)
        return name
    raise TransportError(f"aucun nom libre pour {base!r} dans {inbox}")


def _sweep(work: Path) -> None:
    """Remove what a crashed download left in the work folder (its remote file is still there)."""
    cutoff = time.time() - STALE_SECONDS
    try:
        entries = list(os.scandir(work))
    except FileNotFoundError:
        return
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                log.warning("remote.pull.leftover_removed", name=entry.name)
        except FileNotFoundError:
            continue


# Push ----------------------------------------------------------------------------------------------------
def push(config: Config, store: Store, *, now: datetime | None = None) -> int:
    """Put every document delivered since the last push on the remote outbox, and withdraw from it those the
    retention removed; returns how many went (0 while another instance is pushing)."""
    with _one_instance(store, "remote-push") as mine:
        return _push(config, store, now) if mine else 0


def _push(config: Config, store: Store, now: datetime | None) -> int:
    lk = link(config)
    remote = RemoteStore(store)
    failures = _Failures("push", lk.transport)
    layout = Layout(config.outbox)
    configured = list(config.remote.subscribers)
    served = set(configured or remote.active_subscribers())
    count, after = 0, 0
    while batch := remote.to_push(configured or None, after=after):
        for doc in batch:
            after = doc.id
            subscriber, _, relpath = doc.path.partition("/")
            if subscriber not in served or not relpath:
                continue
            try:
                source = layout.absolute(PurePosixPath(doc.path))
                _size, digest = hash_local(source)
            except (OSError, ValueError) as exc:
                log.warning("remote.push.unreadable", path=doc.path, error=type(exc).__name__)
                continue
            if digest != doc.sha256:
                continue  # being delivered again right now: pushed next round with its recorded bytes
            if failures.attempt(lk.transport.publish, subscriber, relpath, source, subscriber=subscriber)[0]:
                remote.mark_pushed(doc.id, digest, now or datetime.now(UTC))
                count += 1
    withdrawn, after = 0, 0
    while batch := remote.to_withdraw(after=after):
        for doc in batch:
            after = doc.id
            subscriber, _, relpath = doc.path.partition("/")
            if failures.attempt(lk.transport.remove, subscriber, relpath, subscriber=subscriber)[0]:
                remote.mark_withdrawn(doc.id)
                withdrawn += 1
    if count or withdrawn:
        log.info("remote.pushed", documents=count, withdrawn=withdrawn)
    return count


# Rounds of the daemon and of ``gateway intake --once`` ------------------------------------------------------
def pull_logged(config: Config, store: Store, *, releases: Releases | None = None) -> int | None:
    """:func:`pull`, any failure logged instead of raised (None): the next round tries again."""
    return _logged("pull", lambda: pull(config, store, releases=releases))


def push_logged(config: Config, store: Store) -> int | None:
    """:func:`push`, any failure logged instead of raised (None): the next round tries again."""
    return _logged("push", lambda: push(config, store))


def _logged(what: str, op: Callable[[], int]) -> int | None:
    try:
        return op()
    except GatewayError as exc:  # transport, configuration, database: said once, retried next round
        log.error(f"remote.{what}.round_failed", error=str(exc))
    except Exception:  # a bug here must not stop the intake
        log.exception(f"remote.{what}.round_failed")
    return None


__all__ = ["Link", "close", "endpoint", "link", "local_name", "pull", "pull_logged", "push", "push_logged",
           "subscribers"]
