"""The built-in server's host key: generated once (Ed25519, OpenSSH format, mode 0600) and pinned by clients.

Paramiko reads OpenSSH Ed25519 keys but cannot generate them, so the key is made with ``cryptography``
(a paramiko dependency) and written in the OpenSSH private key format, which ``ssh-keygen`` also reads.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.errors import TransportError
from gateway.log import get_logger

log = get_logger(__name__)

HostKey = paramiko.PKey


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form, as ``ssh-keygen -lf`` and the ``ssh`` prompt print it: ``SHA256:<base64 unpadded>``."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_hosts_line(key: paramiko.PKey, host: str, port: int) -> str:
    """The ``known_hosts`` line a client pins (``[host]:port`` form when the port is not 22)."""
    name = host if port == 22 else f"[{host}]:{port}"
    return f"{name} {key.get_name()} {key.get_base64()}"


def _generate(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key clients have pinned; 0600 from the first byte, not chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())


def load_host_key(path: Path) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise TransportError(f"clé d'hôte illisible: {path}: {exc}") from exc


def ensure_host_key(path: Path) -> tuple[paramiko.PKey, str]:
    """Load the host key at ``path``, generating it first if missing. Returns the key and its fingerprint."""
    path = Path(path)
    if not path.exists():
        try:
            _generate(path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError as exc:
            raise TransportError(f"création de la clé d'hôte impossible: {path}: {exc.strerror}") from exc
        log.info("sftp.host_key.generated", path=str(path))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # A private key readable by others is a leak waiting to happen; tighten rather than refuse to start.
        os.chmod(path, 0o600)
        log.warning("sftp.host_key.mode_tightened", path=str(path), was=oct(mode))
    key = load_host_key(path)
    return key, fingerprint(key)


__all__ = ["HostKey", "ensure_host_key", "fingerprint", "known_hosts_line", "load_host_key"]
