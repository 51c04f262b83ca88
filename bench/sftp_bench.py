"""SFTP throughput on loopback: uploads/s into the built-in server, pulls/s by the gateway's client from sshd.

    .venv/bin/python bench/sftp_bench.py [--files 1000] [--size 20480] [--no-fsync]

1. OpenSSH's stock ``sftp`` client (key login, one batch of ``put`` commands, one connection) uploads
   N files into the built-in server; the time runs from the client's start to its exit.
2. The gateway's remote-mode client lists, fetches (download + size and SHA-256 checks) and acknowledges
   (removes) N files from a throwaway OpenSSH ``sshd``.

Floors measured by the prototype on loopback: about 750 uploads/s, about 520 downloads/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "transport"))  # the OpenSSH helpers the tests use

from openssh_kit import SSHD, Sshd, keygen, sftp_command

from gateway.config import SftpSection
from gateway.transport.auth import Account, MemoryAuthenticator
from gateway.transport.hostkey import ensure_host_key, known_hosts_line
from gateway.transport.sftp_client import RemoteEndpoint, SftpTransport
from gateway.transport.sftp_server import SftpServer

SUBSCRIBER = "1234567"


def make_files(folder: Path, count: int, size: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        p = folder / f"decl-{i:05d}.xml"
        p.write_bytes(os.urandom(size))
        files.append(p)
    return files


def bench_uploads(tmp: Path, count: int, size: int, fsync: bool) -> float:
    files = make_files(tmp / "local", count, size)
    inbox, outbox = tmp / "inbox" / SUBSCRIBER, tmp / "outbox" / SUBSCRIBER
    inbox.mkdir(parents=True)
    outbox.mkdir(parents=True)
    key = keygen(tmp / "client_key")
    auth = MemoryAuthenticator()
    auth.add(Account(SUBSCRIBER, inbox, outbox), keys=((key.key_type, key.blob),))
    host_key, _ = ensure_host_key(tmp / "host_key")
    woken: list[str] = []
    server = SftpServer(SftpSection(port=0, max_upload_bytes=size * 2), auth, host_key,
                        on_upload=lambda s, n: woken.append(n), fsync=fsync)
    _, port = server.start()
    try:
        kh = tmp / "known_hosts"
        kh.write_text(known_hosts_line(host_key, "127.0.0.1", port) + "\n")
        batch = tmp / "batch"
        batch.write_text("".join(f"put {f} /inbox/\n" for f in files))
        cmd, env = sftp_command(port, SUBSCRIBER, kh, batch, key=key.private)
        start = time.perf_counter()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
    if r.returncode != 0:
        raise SystemExit(f"sftp failed: {r.stderr}")
    landed = [n for n in os.listdir(inbox) if not n.startswith(".")]
    assert len(landed) == count == len(woken), (len(landed), len(woken))
    return count / elapsed


def bench_pulls(tmp: Path, count: int, size: int, fsync: bool) -> tuple[float, float]:
    key = keygen(tmp / "gateway_key")
    sshd = Sshd(tmp / "sshd", [key]).start()
    try:
        remote = tmp / "remote"
        make_files(remote / "inbox" / SUBSCRIBER, count, size)
        (remote / "outbox" / SUBSCRIBER).mkdir(parents=True)
        ep = RemoteEndpoint(
            host="127.0.0.1", port=sshd.port, user=sshd.user, key_file=key.private,
            known_hosts=sshd.known_hosts(tmp / "pinned"), settle_seconds=0.0,
            inbox=f"{remote}/inbox/{{subscriber}}", outbox=f"{remote}/outbox/{{subscriber}}", fsync=fsync,
        )
        t = SftpTransport(ep)
        work = tmp / "work"
        try:
            t.list_complete(SUBSCRIBER)  # connect outside the timing, as a long-lived worker would be
            start = time.perf_counter()
            items = t.list_complete(SUBSCRIBER)
            fetched = [t.fetch(i, work) for i in items]
            fetch_elapsed = time.perf_counter() - start
            for f in fetched:
                assert f is not None
                t.ack(f)
            total_elapsed = time.perf_counter() - start
        finally:
            t.close()
        assert len(items) == count and not os.listdir(remote / "inbox" / SUBSCRIBER)
        return count / fetch_elapsed, count / total_elapsed
    finally:
        sshd.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=20 * 1024)
    parser.add_argument("--no-fsync", action="store_true", help="no fsync of uploads and downloads (not the default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as d:
        rate = bench_uploads(Path(d) / "up", args.files, args.size, fsync=not args.no_fsync)
        print(f"uploads (OpenSSH sftp -> built-in server, fsync={'off' if args.no_fsync else 'on'}): "
              f"{rate:,.0f} files/s  ({args.files} x {args.size} B)")
        if SSHD is None:
            print("pulls: skipped (sshd not installed)")
            return
        fetch_rate, with_ack = bench_pulls(Path(d) / "pull", args.files, args.size, fsync=not args.no_fsync)
        print(f"pulls (gateway client <- OpenSSH sshd, fsync={'off' if args.no_fsync else 'on'}): "
              f"{fetch_rate:,.0f} files/s fetched, "
              f"{with_ack:,.0f} files/s fetched and removed")


if __name__ == "__main__":
    main()
