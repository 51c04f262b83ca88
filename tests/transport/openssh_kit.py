"""Real OpenSSH for the transport tests and the benchmark: keys, a throwaway sshd, the stock sftp client.

Everything listens on 127.0.0.1 high ports and lives in a temporary folder; whoever starts a process stops it.
"""

from __future__ import annotations

import base64
import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
SFTP = shutil.which("sftp")
SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")
SSHPASS = shutil.which("sshpass")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public_line: str

    @property
    def key_type(self) -> str:
        return self.public_line.split()[0]

    @property
    def blob(self) -> bytes:
        return base64.b64decode(self.public_line.split()[1])


def keygen(path: Path) -> KeyPair:
    assert SSH_KEYGEN, "ssh-keygen missing"
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)], check=True)
    return KeyPair(path, path.with_name(path.name + ".pub").read_text().strip())


def known_hosts_for(host_pub_line: str, port: int, path: Path) -> Path:
    kind, b64 = host_pub_line.split()[:2]
    path.write_text(f"[127.0.0.1]:{port} {kind} {b64}\n")
    return path


def client_options(known_hosts: Path) -> list[str]:
    return [
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ConnectTimeout=10",
        "-o", "LogLevel=ERROR",
    ]


def sftp_command(
    port: int, user: str, known_hosts: Path, batch: Path, *, password: str | None = None, key: Path | None = None,
    bind: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The stock ``sftp -b`` command line (and environment) for a password or a key login; ``bind``: the
    client's source address (e.g. ``127.0.0.2``, to come from another address than the other clients)."""
    assert SFTP, "sftp missing"
    env = dict(os.environ)
    cmd = [SFTP, "-P", str(port), *client_options(known_hosts)]
    if bind is not None:
        cmd += ["-o", f"BindAddress={bind}"]
    if password is not None:
        assert SSHPASS, "sshpass missing"
        # sftp -b adds BatchMode=yes (no password prompt) where -b appears; ssh keeps the first value it
        # sees, so BatchMode=no must come before -b.
        cmd = [SSHPASS, "-e", *cmd, "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
               "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1"]
        env["SSHPASS"] = password
    cmd += ["-b", str(batch)]
    if key is not None:
        cmd += ["-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
                "-o", "PreferredAuthentications=publickey"]
    cmd.append(f"{user}@127.0.0.1")
    return cmd, env


def run_sftp(
    port: int,
    user: str,
    known_hosts: Path,
    commands: list[str],
    workdir: Path,
    *,
    password: str | None = None,
    key: Path | None = None,
    bind: str | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    batch = workdir / f"batch-{time.monotonic_ns()}"
    batch.write_text("\n".join(commands) + "\n")
    cmd, env = sftp_command(port, user, known_hosts, batch, password=password, key=key, bind=bind)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


class Sshd:
    """A throwaway OpenSSH server on 127.0.0.1: own host key, own authorized_keys, internal-sftp."""

    def __init__(self, root: Path, authorized: list[KeyPair]) -> None:
        assert SSHD, "sshd missing"
        self.root = root
        self.port = free_port()
        self.user = getpass.getuser()
        root.mkdir(parents=True, exist_ok=True)
        self.host_key = keygen(root / "ssh_host_ed25519_key")
        (root / "authorized_keys").write_text("".join(k.public_line + "\n" for k in authorized))
        self.config = root / "sshd_config"
        self.config.write_text(
            f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key.private}
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 50
LogLevel ERROR
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation folder sshd insists on
        self._log = open(self.root / "sshd.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)],  # type: ignore[list-item]
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError("sshd did not start: " + (self.root / "sshd.log").read_text())
        return self

    def replace_host_key(self) -> None:
        """A new host key, as after a reinstall or an attack: clients must refuse it. Restarts sshd."""
        self.stop()
        for p in (self.host_key.private, self.host_key.private.with_name(self.host_key.private.name + ".pub")):
            p.unlink()
        self.host_key = keygen(self.host_key.private)
        self.start()

    def known_hosts(self, path: Path) -> Path:
        return known_hosts_for(self.host_key.public_line, self.port, path)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
            self._log.close()
