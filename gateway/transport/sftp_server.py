"""The built-in SFTP server for subscribers (paramiko), one thread per connection.

Only the ``sftp`` subsystem is served: no shell, exec, pty, port forwarding, X11 or agent. Login is by
subscriber number with a password or a registered public key, nothing else; every refusal looks and
takes the same (a floor delay on each failure). Failed passwords lock the (address, subscriber) pair and
slow the address down (:mod:`gateway.transport.throttle`). What one client may hold — connections per
address, logged in or not, sessions per subscriber, open handles per connection — is capped
(:mod:`gateway.transport.limits`), and a connection has ``auth_timeout_seconds`` from its TCP connect to
log in. What a session may do is in :mod:`gateway.transport.sftp_fs`.

Use from the daemon::

    key, fp = ensure_host_key(config.path(config.sftp.host_key))
    server = SftpServer(config.sftp, authenticator, key, on_upload=wake_intake)
    server.start()          # listening in background threads; server.address is (host, port)
    ...
    server.stop()

or ``server.serve_forever()`` in the foreground (``gateway sftp-server``), ended by ``stop()`` from a
signal handler.
"""

from __future__ import annotations

import ctypes
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paramiko

from gateway.config import SftpSection
from gateway.errors import TransportError
from gateway.faults import reason_of
from gateway.log import get_logger
from gateway.transport.auth import Account, Authenticator
from gateway.transport.limits import Admission, Caps, HandleBudget, address_key, ensure_fd_limit
from gateway.transport.sftp_files import SessionPolicy
from gateway.transport.sftp_fs import GatewaySFTP, GatewaySFTPServer
from gateway.transport.throttle import Throttle

log = get_logger(__name__)

MAX_CHANNELS_PER_CONNECTION = 4  # OpenSSH's sftp uses one; a few for clients that parallelise
_POLL_SECONDS = 0.25
_DISCONNECT_TOO_MANY_CONNECTIONS = 12  # RFC 4253, 11.1


class Connection(paramiko.ServerInterface):
    """The SSH side of one client connection: authentication and what channels it may open."""

    def __init__(self, server: SftpServer, address: tuple[str, int]) -> None:
        self.server = server
        self.address = address
        self.peer = address_key(address[0])  # what the caps and the throttle count it under
        self.policy: SessionPolicy = server.policy
        self.handles = HandleBudget(server.policy.max_open_handles)
        self.account: Account | None = None  # set once the subscriber has a session slot (Admission.log_in)
        self.offered: Account | None = None  # a registered key offered, its signature not yet checked
        self.transport: paramiko.Transport | None = None
        self.refused = False  # a login refused for good: the watcher ends the connection
        self.ended = threading.Event()
        self._lock = threading.Lock()  # account vs ended: a login racing the end must not leak its slot
        self.channels = 0
        self.last_activity = time.monotonic()

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    # Authentication ---------------------------------------------------------------------------------
    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        username = username[:64]
        throttle = self.server.throttle
        account: Account | None = None
        locked = throttle.locked(self.peer, username)
        if not locked:
            wait = throttle.wait_before(self.peer, username)
            if wait > 0:
                log.info("sftp.auth.slowed", subscriber=username, address=self.address[0], seconds=round(wait, 2))
                if self.ended.wait(wait):
                    return paramiko.AUTH_FAILED
        started = time.monotonic()
        unavailable = False
        if not locked:
            try:
                account = self.server.authenticator.password(username, password)
            except Exception as exc:  # noqa: BLE001 - the login is refused, the server goes on
                unavailable = True  # not checked, so not a failed attempt: no lockout while the database is down
                self._auth_error(username, exc)
        if account is None:
            if not unavailable:
                throttle.failed(self.peer, username, locked=locked)
            log.info("sftp.auth.refused", method="password", subscriber=username, address=self.address[0], locked=locked)
            # Same answer after the same delay for unknown subscriber, wrong password, disabled or locked.
            self.ended.wait(max(0.0, self.server.failure_floor - (time.monotonic() - started)))
            return paramiko.AUTH_FAILED
        throttle.succeeded(self.peer, username)
        return paramiko.AUTH_SUCCESSFUL if self.log_in(account, "password") else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # Keys cannot be guessed, so key logins are not throttled: a password-guessing attacker must not
        # lock a subscriber's key-based software out.
        try:
            account = self.server.authenticator.public_key(username[:64], key.get_name(), key.asbytes())
        except Exception as exc:  # noqa: BLE001 - the login is refused, the server goes on
            self._auth_error(username[:64], exc)
            account = None
        if account is None:
            return paramiko.AUTH_FAILED
        # Paramiko asks this before it checks the signature (and for a key merely offered, never signed):
        # anyone may offer a public key, so the session slot waits for the login itself (see log_in).
        self.offered = account
        return paramiko.AUTH_SUCCESSFUL

    def _auth_error(self, username: str, exc: Exception) -> None:
        """A login that could not be checked: the database unreachable is one line, anything else a bug."""
        if reason_of(exc) is not None:
            log.warning("sftp.auth.unavailable", subscriber=username, address=self.address[0],
                        error=(str(exc).splitlines() or [type(exc).__name__])[0][:300])
        else:
            log.exception("sftp.auth.error", subscriber=username, address=self.address[0])

    def log_in(self, account: Account, method: str) -> bool:
        """The login succeeded: take one of the subscriber's session slots, or refuse it and close.

        Called for a password as soon as it is checked; for a key once the transport is authenticated (by
        the watcher, or at the first channel request if that comes first).
        """
        with self._lock:
            if self.ended.is_set():
                return False
            if self.account is None:
                if not self.server.admission.log_in(self.peer, account.subscriber):
                    limit = self.server.admission.caps.sessions_per_subscriber
                    log.warning("sftp.sessions.limit", subscriber=account.subscriber, address=self.address[0],
                                method=method, limit=limit)
                    self._disconnect(f"trop de connexions simultanées pour l'abonné {account.subscriber} "
                                     f"(maximum {limit}): fermez-en une et réessayez")
                    return False
                log.info("sftp.auth.accepted", method=method, subscriber=account.subscriber, address=self.address[0])
                self.account = account
        self.touch()
        return True

    def key_login(self) -> bool:
        """The transport is authenticated: make sure the subscriber holds its slot (key logins)."""
        if self.account is not None:
            return True
        return self.offered is not None and not self.refused and self.log_in(self.offered, "publickey")

    def _disconnect(self, reason: str) -> None:
        """Tell the client why (OpenSSH prints "Received disconnect …: <reason>") and have the watcher close."""
        self.refused = True
        if self.transport is None:
            return
        m = paramiko.Message()
        m.add_byte(paramiko.common.cMSG_DISCONNECT)
        m.add_int(_DISCONNECT_TOO_MANY_CONNECTIONS)
        m.add_string(reason)
        m.add_string("fr")
        try:
            self.transport._send_message(m)  # paramiko has no public call for a disconnect with a reason
        except Exception as exc:  # noqa: BLE001 - the connection is being closed anyway
            log.info("sftp.disconnect.unsent", address=self.address[0], error=type(exc).__name__)

    # Channels: one kind, one subsystem ------------------------------------------------------------------
    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind != "session" or not self.key_login():  # paramiko asks only once authenticated
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        if self.channels >= MAX_CHANNELS_PER_CONNECTION:
            return paramiko.OPEN_FAILED_RESOURCE_SHORTAGE
        self.channels += 1
        return paramiko.OPEN_SUCCEEDED

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        if name != "sftp" or self.account is None:
            return False
        return bool(super().check_channel_subsystem_request(channel, name))

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return False

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        return False

    def check_channel_pty_request(self, *args: Any) -> bool:
        return False

    def check_channel_x11_request(self, *args: Any) -> bool:
        return False

    def check_channel_forward_agent_request(self, channel: paramiko.Channel) -> bool:
        return False

    def check_channel_env_request(self, channel: paramiko.Channel, name: bytes, value: bytes) -> bool:
        return False

    def check_channel_direct_tcpip_request(self, chanid: int, origin: Any, destination: Any) -> int:
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_port_forward_request(self, address: str, port: int) -> bool:
        return False

    def check_global_request(self, kind: str, msg: Any) -> bool:
        return False


class SftpServer:
    """Listens on ``settings.host:settings.port`` (port 0: any free port, see :attr:`address`)."""

    def __init__(
        self,
        settings: SftpSection,
        authenticator: Authenticator,
        host_key: paramiko.PKey,
        *,
        on_upload: Callable[[str, str], None] | None = None,
        max_session_bytes: int = 1024 * 1024 * 1024,
        failure_floor: float = 0.25,
        fsync: bool = True,
        always_accepted: frozenset[str] = frozenset({"email-verification.txt"}),
    ) -> None:
        self.settings = settings
        self.authenticator = authenticator
        self.host_key = host_key
        self.failure_floor = failure_floor
        self.policy = SessionPolicy(
            max_open_handles=settings.max_open_handles,
            max_file_bytes=settings.max_upload_bytes,
            max_session_bytes=max_session_bytes,
            fsync=fsync,
            always_accepted=always_accepted,
            on_upload=on_upload,
        )
        self.throttle = Throttle(settings.max_failed_logins, settings.lockout_seconds, floor=failure_floor,
                                 free=settings.slowdown_after_failures, max_delay=settings.max_failure_delay_seconds)
        self.admission = Admission(Caps.from_settings(settings))
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._transports: set[paramiko.Transport] = set()
        self._threads: set[threading.Thread] = set()
        self._accept_thread: threading.Thread | None = None
        self.address: tuple[str, int] = (settings.host, settings.port)

    # Lifecycle --------------------------------------------------------------------------------------
    def start(self) -> tuple[str, int]:
        """Bind and accept in a background thread. Returns the bound (host, port).

        Raises TransportError if the address cannot be bound, or if the file descriptors the caps allow
        exceed what the process may open (:func:`~gateway.transport.limits.ensure_fd_limit`).
        """
        fds_needed, fds_limit = ensure_fd_limit(self.settings)
        _return_large_blocks()
        try:
            family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.settings.host, self.settings.port))
            sock.listen(128)
        except OSError as exc:
            raise TransportError(
                f"écoute SFTP impossible sur {self.settings.host}:{self.settings.port}: {exc.strerror}",
                endpoint=f"{self.settings.host}:{self.settings.port}",
            ) from exc
        sock.settimeout(_POLL_SECONDS)  # accept() wakes up regularly to notice stop()
        self._listener = sock
        self.address = sock.getsockname()[:2]
        self._stopping.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="sftp-accept", daemon=True)
        self._accept_thread.start()
        log.info("sftp.server.started", host=self.address[0], port=self.address[1], fds_needed=fds_needed,
                 fds_limit=fds_limit)
        return self.address

    def serve_forever(self) -> None:
        """Start (if needed) and block until :meth:`stop` is called (e.g. from a signal handler)."""
        if self._listener is None:
            self.start()
        while not self._stopping.wait(1.0):
            pass

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end every connection (uploads in progress are discarded), join the threads."""
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            transports, threads = list(self._transports), list(self._threads)
        for t in transports:
            t.close()
        deadline = time.monotonic() + timeout
        for th in threads:
            th.join(max(0.0, deadline - time.monotonic()))
        log.info("sftp.server.stopped")

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._threads)

    # Internals --------------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None
        listener = self._listener
        while not self._stopping.is_set():
            try:
                sock, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                time.sleep(_POLL_SECONDS)  # e.g. out of file descriptors: do not spin
                continue
            accepted = time.monotonic()
            over = self.admission.admit(address_key(address[0]))
            if over is not None:
                # Closed before any banner, so a flood costs one accept and one line each.
                log.warning("sftp.connections.limit", address=address[0], port=address[1], limit=over)
                sock.close()
                continue
            # Without TCP_NODELAY each small request waits for Nagle + delayed ACK: small files 4x slower.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            th = threading.Thread(target=self._serve, args=(sock, address, accepted), name=f"sftp-{address[0]}",
                                  daemon=True)
            with self._lock:
                self._threads.add(th)
            try:
                th.start()
            except RuntimeError:  # no thread to be had: give the slot back
                log.error("sftp.connection.no_thread", address=address[0])
                with self._lock:
                    self._threads.discard(th)
                self.admission.leave(address_key(address[0]), None)
                sock.close()

    def _serve(self, sock: socket.socket, address: tuple[str, int], accepted: float) -> None:
        conn = Connection(self, address)
        transport: paramiko.Transport | None = None
        try:
            transport = paramiko.Transport(sock)
            transport.banner_timeout = min(self.settings.banner_timeout_seconds, self.settings.auth_timeout_seconds)
            transport.handshake_timeout = self.settings.auth_timeout_seconds
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", GatewaySFTPServer, sftp_si=GatewaySFTP)
            conn.transport = transport
            with self._lock:
                self._transports.add(transport)
            # With an event, start_server returns at once: the watcher then holds the whole of banner, key
            # exchange and login to one deadline counted from the TCP connect.
            transport.start_server(event=threading.Event(), server=conn)
            self._watch(transport, conn, accepted)
        except Exception:
            log.exception("sftp.connection.error", address=address[0])
        finally:
            with conn._lock:
                conn.ended.set()
                subscriber = conn.account.subscriber if conn.account is not None else None
            if transport is not None:
                transport.close()
                with self._lock:
                    self._transports.discard(transport)
            else:
                sock.close()
            self.admission.leave(conn.peer, subscriber)
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _watch(self, transport: paramiko.Transport, conn: Connection, accepted: float) -> None:
        """Enforce the login deadline, a refused login and the idle timeout until the connection ends."""
        deadline = accepted + self.settings.auth_timeout_seconds
        while not self._stopping.is_set():
            if conn.refused:
                return
            if not transport.is_active():
                if not transport.is_authenticated():
                    error = transport.saved_exception
                    log.info("sftp.closed_before_login", address=conn.address[0],
                             reason=(str(error) or type(error).__name__) if error else "client")
                return
            now = time.monotonic()
            if transport.is_authenticated() and conn.account is None and not conn.key_login():
                return
            if not transport.is_authenticated():
                if now > deadline:
                    log.info("sftp.auth.timeout", address=conn.address[0], seconds=round(now - accepted, 1))
                    return
            elif now - conn.last_activity > self.settings.idle_timeout_seconds:
                log.info("sftp.idle.timeout", subscriber=conn.account.subscriber if conn.account else "", address=conn.address[0])
                return
            self._stopping.wait(_POLL_SECONDS)


def _return_large_blocks() -> None:
    """Each login checks a password with Argon2id, which takes a 19 MiB block (scrypt, for a hash stored
    before 2026-11-27, a 16 MiB one). glibc serves such blocks by mmap and gives them back, until the first
    one freed raises its threshold: from then on they come from the arena of the connection's thread and
    stay there, up to one per arena (the daemon grew to 450 MiB after a hundred logins). A fixed threshold
    keeps them mmapped, so each is returned when freed."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_mmap_threshold = -3
    libc.mallopt(m_mmap_threshold, 1 << 20)


__all__ = ["Connection", "SftpServer"]
