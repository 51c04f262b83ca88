"""The built-in SFTP server for subscribers (paramiko), one thread per connection.

Only the ``sftp`` subsystem is served: no shell, exec, pty, port forwarding, X11 or agent. Login is by
subscriber number with a password or a registered public key, nothing else; every refusal looks and
takes the same (a floor delay on each failure), failed passwords are throttled per account and per
address. What a session may do is in :mod:`gateway.transport.sftp_fs`.

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
from gateway.log import get_logger
from gateway.transport.auth import Account, Authenticator
from gateway.transport.sftp_files import SessionPolicy
from gateway.transport.sftp_fs import GatewaySFTP, GatewaySFTPServer
from gateway.transport.throttle import Throttle

log = get_logger(__name__)

MAX_CHANNELS_PER_CONNECTION = 4  # OpenSSH's sftp uses one; a few for clients that parallelise
_POLL_SECONDS = 0.25


class Connection(paramiko.ServerInterface):
    """The SSH side of one client connection: authentication and what channels it may open."""

    def __init__(self, server: SftpServer, address: tuple[str, int]) -> None:
        self.server = server
        self.address = address
        self.policy: SessionPolicy = server.policy
        self.account: Account | None = None
        self.registered = False
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
        started = time.monotonic()
        username = username[:64]
        keys = (f"user:{username}", f"addr:{self.address[0]}")
        account: Account | None = None
        locked = self.server.throttle.locked(*keys)
        if not locked:
            try:
                account = self.server.authenticator.password(username, password)
            except Exception:
                log.exception("sftp.auth.error", subscriber=username, address=self.address[0])
        if account is None:
            if not locked:  # counting while locked would let an attacker keep an account locked forever
                self.server.throttle.failed(*keys)
            log.info("sftp.auth.refused", method="password", subscriber=username, address=self.address[0], locked=locked)
            # Same answer after the same delay for unknown subscriber, wrong password, disabled or locked.
            time.sleep(max(0.0, self.server.failure_floor - (time.monotonic() - started)))
            return paramiko.AUTH_FAILED
        self.server.throttle.succeeded(keys[0])
        return self._accepted(account, "password")

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # Keys cannot be guessed, so key logins are not throttled: a password-guessing attacker must not
        # lock a subscriber's key-based software out.
        try:
            account = self.server.authenticator.public_key(username[:64], key.get_name(), key.asbytes())
        except Exception:
            log.exception("sftp.auth.error", subscriber=username[:64], address=self.address[0])
            account = None
        if account is None:
            return paramiko.AUTH_FAILED
        return self._accepted(account, "publickey")

    def _accepted(self, account: Account, method: str) -> int:
        if self.account is None:
            log.info("sftp.auth.accepted", method=method, subscriber=account.subscriber, address=self.address[0])
        self.account = account
        self.touch()
        return paramiko.AUTH_SUCCESSFUL

    # Channels: one kind, one subsystem ------------------------------------------------------------------
    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind != "session" or self.account is None:
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        if self.channels >= MAX_CHANNELS_PER_CONNECTION:
            return paramiko.OPEN_FAILED_RESOURCE_SHORTAGE
        if not self.registered:
            if not self.server._register(self.account.subscriber):
                log.warning("sftp.sessions.limit", subscriber=self.account.subscriber, address=self.address[0])
                return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
            self.registered = True
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
        self.throttle = Throttle(settings.max_failed_logins, settings.lockout_seconds)
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._transports: set[paramiko.Transport] = set()
        self._threads: set[threading.Thread] = set()
        self._sessions: dict[str, int] = {}
        self._accept_thread: threading.Thread | None = None
        self.address: tuple[str, int] = (settings.host, settings.port)

    # Lifecycle --------------------------------------------------------------------------------------
    def start(self) -> tuple[str, int]:
        """Bind and accept in a background thread. Returns the bound (host, port)."""
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
        log.info("sftp.server.started", host=self.address[0], port=self.address[1])
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
    def _register(self, subscriber: str) -> bool:
        with self._lock:
            if self._sessions.get(subscriber, 0) >= self.settings.max_sessions_per_subscriber:
                return False
            self._sessions[subscriber] = self._sessions.get(subscriber, 0) + 1
            return True

    def _unregister(self, subscriber: str) -> None:
        with self._lock:
            left = self._sessions.get(subscriber, 1) - 1
            if left > 0:
                self._sessions[subscriber] = left
            else:
                self._sessions.pop(subscriber, None)

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
            with self._lock:
                full = len(self._threads) >= self.settings.max_connections
            if full:
                log.warning("sftp.connections.limit", address=address[0])
                sock.close()
                continue
            # Without TCP_NODELAY each small request waits for Nagle + delayed ACK: small files 4x slower.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            th = threading.Thread(target=self._serve, args=(sock, address), name=f"sftp-{address[0]}", daemon=True)
            with self._lock:
                self._threads.add(th)
            th.start()

    def _serve(self, sock: socket.socket, address: tuple[str, int]) -> None:
        conn = Connection(self, address)
        transport: paramiko.Transport | None = None
        try:
            transport = paramiko.Transport(sock)
            transport.banner_timeout = self.settings.banner_timeout_seconds
            transport.handshake_timeout = self.settings.banner_timeout_seconds
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", GatewaySFTPServer, sftp_si=GatewaySFTP)
            with self._lock:
                self._transports.add(transport)
            try:
                transport.start_server(server=conn)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                log.info("sftp.handshake.failed", address=address[0], reason=str(exc) or type(exc).__name__)
                return
            self._watch(transport, conn)
        except Exception:
            log.exception("sftp.connection.error", address=address[0])
        finally:
            if transport is not None:
                transport.close()
                with self._lock:
                    self._transports.discard(transport)
            else:
                sock.close()
            if conn.registered and conn.account is not None:
                self._unregister(conn.account.subscriber)
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _watch(self, transport: paramiko.Transport, conn: Connection) -> None:
        """Enforce the login and idle timeouts until the connection ends."""
        started = time.monotonic()
        while transport.is_active() and not self._stopping.is_set():
            now = time.monotonic()
            if not transport.is_authenticated():
                if now - started > self.settings.auth_timeout_seconds:
                    log.info("sftp.auth.timeout", address=conn.address[0])
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
