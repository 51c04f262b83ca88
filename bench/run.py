"""Benchmark a national month: the real gateway end to end, and the bare-library floor for the same data.

    .venv/bin/python bench/run.py                   # 6,500 employers, ~300 subscribers, 60,000 employees
    .venv/bin/python bench/run.py --payslips 60000  # and 60,000 payslip requests
    .venv/bin/python bench/run.py --quick           # a small month, to try it out

Stages, each printed with its seconds and rates:
  setup      synthetic records (bulk inserts, not measured as gateway work)
  local      every declaration file dropped in the inboxes, then `gateway intake --once` (worker processes)
  payslips   (with --payslips) the payslip requests, one file per employer, through the same intake
  sftp       `gateway run` with its built-in SFTP server: N files uploaded with OpenSSH's sftp (one
             connection per subscriber, --sftp-clients of them at once), wall time until every
             acknowledgement is in the outbox;
             then the upload-to-acknowledgement latency of single files while the daemon is idle
  floor      the same files through lxml parse + XSD validation, SQLAlchemy Core executemany of the same
             lines, and one one-page ReportLab PDF per acknowledgement (and payslip): the libraries alone

Everything runs on this machine (loopback only); figures vary with its load: run it on a quiet machine. The
load average is printed at the start and with each stage, so every figure says what it ran at.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert

from gateway import config as config_mod
from gateway import demo
from gateway.store.models import Assignment, Employee, Employer, Employment, Subscriber
from gateway.store.repo import Store

PYTHON = sys.executable
NOW = "2026-11-05T10:00:00+01:00"  # early November: October is open, not yet late
PERIOD = "2026-10"


def sizes(rng: random.Random, employers: int, employees: int) -> list[int]:
    """Declaration sizes skewed like Monaco's: most employers under 5 employees, a few with hundreds."""
    raw = [min(900.0, rng.paretovariate(1.1)) for _ in range(employers)]
    scale = employees / sum(raw)
    out = [max(1, round(r * scale)) for r in raw]
    diff = employees - sum(out)
    while diff:  # rounding leftovers taken from (or given to) the largest files; every file keeps one employee
        i = max(range(len(out)), key=out.__getitem__)
        step = max(diff, 1 - out[i])
        out[i] += step
        diff -= step
    return out


def setup(home: Path, subscribers: int, employers: int, employees: int, rng: random.Random,
          workers: int = 0) -> list[tuple[str, str, list[str]]]:
    """Records in bulk; returns (subscriber, employer, registrations) per employer."""
    (home / "gateway.toml").write_text(
        f'[sftp]\nenabled = false\n[intake]\nsettle_seconds = 0\nworkers = {workers}\n[logging]\nlevel = "WARNING"\n'
        '[jobs]\nprefill = ""\nreminders = ""\nstatements = ""\nmandates = ""\nworkforce = ""\n'
        'synthesis = ""\nretention = ""\n')
    config = config_mod.load(home / "gateway.toml")
    store = Store.connect(config)
    store.upgrade()
    demo.load(store)
    now = datetime.now(UTC)
    plan = []
    per_employer = sizes(rng, employers, employees)
    with store.engine.begin() as conn:
        conn.execute(insert(Subscriber), [
            {"id": 1000 + s, "number": f"{500000 + s}", "name": f"Cabinet {s}", "email": f"c{s}@example.org",
             "email_verified_at": now, "disabled": False, "created_at": now} for s in range(subscribers)])
        conn.execute(insert(Employer), [
            {"id": 10000 + e, "number": f"{600000 + e}", "name": f"Employeur {e}", "address": "Monaco",
             "active": True, "building_trade": e % 17 == 0, "household": False, "direct_debit": False,
             "created_at": now} for e in range(employers)])
        conn.execute(insert(Assignment), [
            {"subscriber_id": 1000 + e % subscribers, "employer_id": 10000 + e, "valid_from": date(2024, 1, 1)}
            for e in range(employers)])
        people, jobs, reg = [], [], 3_000_000
        for e, n in enumerate(per_employer):
            regs = []
            for _ in range(n):
                reg += 1
                people.append({"id": reg, "registration": str(reg), "last_name": "DUPONT", "first_name": "Jean",
                               "birth_date": date(1980, 1, 1), "provisional": False, "created_at": now})
                jobs.append({"employer_id": 10000 + e, "employee_id": reg, "start": date(2020, 1, 1)})
                regs.append(str(reg))
            plan.append((f"{500000 + e % subscribers}", f"{600000 + e}", regs))
        for i in range(0, len(people), 5000):
            conn.execute(insert(Employee), people[i:i + 5000])
            conn.execute(insert(Employment), jobs[i:i + 5000])
    store.close()
    return plan


def declaration(employer: str, regs: list[str], rng: random.Random) -> bytes:
    lines = "".join(
        f'<employee registration="{r}"><gross>{rng.randint(1900, 9000)}.{rng.randint(0, 99):02d}</gross>'
        f"<hours>169.00</hours></employee>" for r in regs)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<declarations xmlns="urn:csm-gateway:declaration:1" '
            f'software="bench"><declaration employer="{employer}" period="{PERIOD}">{lines}</declaration>'
            f"</declarations>\n").encode()


def payslips(employer: str, regs: list[str]) -> bytes:
    slips = "".join(
        f'<payslip employer="{employer}" period="{PERIOD}" registration="{r}"><hourly-rate>19.50</hourly-rate>'
        f'<hours>151.67</hours><overtime rate="25" hours="4"/>'
        f'<element kind="bonus" label="Prime" amount="100.00"/></payslip>' for r in regs)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<payslip-requests xmlns="urn:csm-gateway:payslip:1">'
            f"{slips}</payslip-requests>\n").encode()


def drop_all(home: Path, files: list[tuple[str, str, bytes]]) -> None:
    for subscriber, name, data in files:
        folder = home / "inbox" / subscriber
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


# `gateway intake --once`, with the CPU seconds of the gateway's main process and of its worker processes
# reported at exit (workers are spawned: they do not re-run this -c code)
INTAKE = """
import atexit, json, resource, sys
def _cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print("BENCH-CPU " + json.dumps({"main": me.ru_utime + me.ru_stime, "workers": kids.ru_utime + kids.ru_stime,
          "rss_main": me.ru_maxrss / 1024, "rss_workers": kids.ru_maxrss / 1024}), file=sys.stderr)
atexit.register(_cpu)
from gateway.cli import main
main()
"""


def intake(home: Path) -> tuple[float, dict[str, float]]:
    """(seconds, CPU seconds and peak RSS MiB of the main and worker processes) of one `gateway intake --once`."""
    env = {**os.environ, "GATEWAY_FAKE_NOW": NOW}
    start = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", INTAKE, "--config", str(home / "gateway.toml"), "intake", "--once"],
                          env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"intake failed:\n{done.stderr[-3000:]}")
    line = next((x for x in done.stderr.splitlines() if x.startswith("BENCH-CPU ")), "BENCH-CPU {}")
    import json

    return seconds, json.loads(line.split(" ", 1)[1])


def cpu_text(cpu: dict[str, float], seconds: float) -> str:
    if not cpu:
        return ""
    return (f"\n          CPU: main process {cpu['main']:.1f} s (claims, rows, dispatch), workers {cpu['workers']:.1f} s "
            f"(whole files) = {(cpu['main'] + cpu['workers']) / seconds:.2f} cores busy; "
            f"peak RSS main {cpu['rss_main']:.0f} MiB, largest worker {cpu['rss_workers']:.0f} MiB")


def failed(home: Path) -> int:
    """Files the gateway parked as failed (a benchmark with failures measures nothing)."""
    import sqlite3

    with sqlite3.connect(home / "gateway.db") as db:
        return db.execute("SELECT count(*) FROM received_files WHERE state = 'failed'").fetchone()[0]


def count(home: Path, pattern: str) -> int:
    return sum(1 for _ in (home / "outbox").rglob(pattern))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the sftp, ssh and sshpass processes of a stage)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a live process and of its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def sftp_stage(home: Path, files: list[tuple[str, str, bytes]], latency_samples: int,
               clients: int = 4, auth: str = "password") -> dict[str, float]:
    """Upload through the built-in SFTP server with OpenSSH's client, with the real daemon running.

    ``auth``: each subscriber logs in with its password (Argon2id on the server, ~30 ms of CPU a login), or with
    an Ed25519 key registered for it, as payroll software sending unattended would."""
    sshpass, sftp = shutil.which("sshpass"), shutil.which("sftp")
    if not (sshpass and sftp):
        return {}
    port = free_port()
    text = (home / "gateway.toml").read_text().replace("[sftp]\nenabled = false\n",
                                                       f"[sftp]\nenabled = true\nport = {port}\nfsync_uploads = true\n")
    (home / "gateway.toml").write_text(text)
    config = config_mod.load(home / "gateway.toml")
    store = Store.connect(config)
    subscribers = sorted({s for s, _n, _d in files})
    staging = Path(tempfile.mkdtemp(prefix="bench-up-"))
    key = staging / "id_ed25519"
    if auth == "key":
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    for s in subscribers:
        store.set_password(s, demo.PASSWORD)
        if auth == "key":
            store.add_key(s, key.with_suffix(".pub").read_text())
    store.close()
    env = {**os.environ, "GATEWAY_FAKE_NOW": NOW}
    # the daemon's log goes to a file: an undrained pipe would fill up and block the daemon mid-batch
    daemon_log = (home / "daemon.log").open("w")
    daemon = subprocess.Popen([PYTHON, "-m", "gateway", "--config", str(home / "gateway.toml"), "run", "--poll", "600"],
                              env=env, stdout=subprocess.DEVNULL, stderr=daemon_log, text=True, cwd=ROOT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        by_sub: dict[str, list[Path]] = {}
        for subscriber, name, data in files:
            p = staging / subscriber / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            by_sub.setdefault(subscriber, []).append(p)
        before = count(home, "*.ack.xml")
        opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-P", str(port)]
        if auth == "key":
            login = ["-o", "BatchMode=yes", "-o", "PasswordAuthentication=no", "-o", "IdentitiesOnly=yes",
                     "-i", str(key)]
        else:
            login = [sshpass, "-p", demo.PASSWORD]
            opts += ["-o", "BatchMode=no", "-o", "PubkeyAuthentication=no"]

        def sftp_batch(batch: Path, subscriber: str) -> None:
            if auth == "key":
                command = [sftp, *opts, *login, "-b", str(batch), f"{subscriber}@127.0.0.1"]
            else:
                command = [*login, sftp, *opts, "-b", str(batch), f"{subscriber}@127.0.0.1"]
            subprocess.run(command, check=True, capture_output=True)

        def upload(subscriber: str, paths: list[Path]) -> None:
            """One subscriber's files over one connection (its own account), as payroll software would."""
            batch = staging / f"{subscriber}.batch"
            batch.write_text("".join(f"put {p} inbox/{p.name}\n" for p in paths))
            sftp_batch(batch, subscriber)

        cpu_daemon = tree_cpu(daemon.pid)
        cpu_clients = _children_cpu()
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as uploaders:  # `clients` connections open at once, each kept per subscriber
            for done in [uploaders.submit(upload, s, paths) for s, paths in by_sub.items()]:
                done.result()
        uploaded = time.perf_counter() - start
        while count(home, "*.ack.xml") < before + len(files):
            if daemon.poll() is not None:
                raise SystemExit((home / "daemon.log").read_text()[-3000:])
            time.sleep(0.2)
        total = time.perf_counter() - start
        cpu_daemon = tree_cpu(daemon.pid) - cpu_daemon
        cpu_clients = _children_cpu() - cpu_clients
        latencies = []
        subscriber = subscribers[0]
        for i in range(latency_samples):
            one = staging / f"latency-{i}.xml"
            one.write_bytes(files[i % len(files)][2].replace(b'software="bench"', f'software="bench-{i}"'.encode()))
            batch = staging / "one.batch"
            batch.write_text(f"put {one} inbox/{one.name}\n")
            mine = home / "outbox" / subscriber
            t0 = time.perf_counter()
            sftp_batch(batch, subscriber)
            # this file's acknowledgement in its subscriber's outbox only: a walk of the whole outbox (tens of
            # thousands of documents) took longer than the gateway's answer
            while not any(mine.rglob(f"{one.name}.*.ack.xml")):
                time.sleep(0.01)
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.3)
        shutil.rmtree(staging, ignore_errors=True)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=120)
        daemon_log.close()
    latencies.sort()
    return {"uploaded": uploaded, "total": total, "files": len(files), "cpu_daemon": cpu_daemon,
            "cpu_clients": cpu_clients,
            "median": statistics.median(latencies) if latencies else 0.0,
            "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)] if latencies else 0.0}


def floor(files: list[tuple[str, str, bytes]], payslip_count: int) -> dict[str, float]:
    """The libraries alone on the same data: parse + validate, Core inserts, a one-page PDF per answer."""
    from lxml import etree
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas
    from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, create_engine

    from gateway.formats.xsd import schemas_dir

    schema = etree.XMLSchema(etree.fromstring((schemas_dir() / "declaration-1.xsd").read_bytes()))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    t0 = time.perf_counter()
    rows = []
    for _s, _n, data in files:
        doc = etree.fromstring(data, parser)
        if not schema.validate(doc):  # refused by the gateway too: parsed and validated, nothing recorded
            continue
        for emp in doc.iter("{urn:csm-gateway:declaration:1}employee"):
            rows.append({"registration": emp.get("registration"), "gross": emp[0].text, "hours": emp[1].text})
    parse = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    engine = create_engine(f"sqlite:///{tmp}/floor.db")
    meta = MetaData()
    lines = Table("lines", meta, Column("id", Integer, primary_key=True), Column("registration", String(12)),
                  Column("gross", Numeric(12, 2)), Column("hours", Numeric(12, 2)))
    meta.create_all(engine)
    t0 = time.perf_counter()
    per_file = max(1, len(rows) // max(1, len(files)))
    for i in range(0, len(rows), per_file):  # one transaction per declaration, as the gateway does
        with engine.begin() as conn:
            conn.execute(insert(lines), rows[i:i + per_file])
    db = time.perf_counter() - t0
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    for i in range(len(files) + payslip_count):
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=A4, invariant=1)
        c.setFont("Helvetica-Bold", 14)
        c.drawString(60, 780, f"Accusé de réception GW-{i:08d}")
        c.setFont("Helvetica", 9)
        for k in range(25):
            c.drawString(60, 740 - 14 * k, f"ligne {k}: déclaration, employeur, période, statut, montants")
        c.showPage()
        c.save()
    pdf = time.perf_counter() - t0
    return {"parse": parse, "db": db, "pdf": pdf, "total": parse + db + pdf}


def like_for_like() -> float | None:
    """The CPU per file of the work every file needs (two PDFs, contributions, XML acknowledgement, parse and
    inserts), measured by bench/parts.py in its own process; None when it cannot run."""
    done = subprocess.run([PYTHON, str(ROOT / "bench" / "parts.py"), "600"], capture_output=True, text=True,
                          check=False)
    for line in done.stdout.splitlines():
        if "like-for-like floor" in line:
            return float(line.split(")")[1].split("ms")[0])
    print(f"like-for-like floor: bench/parts.py failed ({done.stderr.strip().splitlines()[-1:]})")
    return None


def load() -> str:
    """The machine's 1-minute load average now: every stage's figures are printed with it (they vary with it)."""
    return f"{os.getloadavg()[0]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employers", type=int, default=6500)
    ap.add_argument("--subscribers", type=int, default=300)
    ap.add_argument("--employees", type=int, default=60000)
    ap.add_argument("--payslips", type=int, default=0, help="payslip requests (0: none)")
    ap.add_argument("--sftp-files", type=int, default=1000, help="files sent through SFTP (0: skip the stage)")
    ap.add_argument("--latency-samples", type=int, default=20)
    ap.add_argument("--sftp-clients", type=int, default=4,
                    help="sftp sessions open at once (each one subscriber's files over one connection)")
    ap.add_argument("--sftp-auth", choices=("password", "key"), default="password",
                    help="how each subscriber logs in: its password (Argon2id on the server) or an Ed25519 key")
    ap.add_argument("--workers", type=int, default=0, help="worker processes ([intake] workers; 0: one per core)")
    ap.add_argument("--quick", action="store_true", help="a small month (300 employers, 3,000 employees)")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark's gateway home")
    args = ap.parse_args()
    if args.quick:
        args.employers, args.subscribers, args.employees = 300, 30, 3000
        args.sftp_files, args.latency_samples = min(args.sftp_files, 100), min(args.latency_samples, 10)
        args.payslips = min(args.payslips, 3000)
    rng = random.Random(20261105)
    home = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    print(f"machine: {os.cpu_count()} cores, load average {load()} at the start; home {home}")
    t0 = time.perf_counter()
    plan = setup(home, args.subscribers, args.employers, args.employees, rng, args.workers)
    print(f"setup     {time.perf_counter() - t0:7.1f} s  {len(plan)} employers, {args.employees} employees, "
          f"{args.subscribers} subscribers")
    sftp_part = plan[:args.sftp_files] if args.sftp_files else []
    local_part = plan[len(sftp_part):]
    local = [(s, f"decl-{e}.xml", declaration(e, regs, rng)) for s, e, regs in local_part]
    drop_all(home, local)
    employees = sum(len(r) for _s, _e, r in local_part)
    started_at = load()
    seconds, cpu = intake(home)
    pdfs = count(home, "*.pdf")
    print(f"local     {seconds:7.1f} s  {len(local) / seconds:7.1f} files/s  {employees / seconds:8.0f} employees/s  "
          f"{pdfs / seconds:6.1f} PDFs/s ({pdfs} PDFs) [load {started_at} at its start]{cpu_text(cpu, seconds)}")
    results = {"local": seconds}
    cpus = [cpu]
    slips = 0
    if args.payslips:
        chosen, budget = [], args.payslips
        for s, e, regs in local_part:
            if budget <= 0:
                break
            take = regs[:budget]
            chosen.append((s, f"payslips-{e}.xml", payslips(e, take)))
            budget -= len(take)
        slips = args.payslips - budget
        before = count(home, "*.pdf")
        drop_all(home, chosen)
        started_at = load()
        seconds, cpu = intake(home)
        made = count(home, "*.pdf") - before
        print(f"payslips  {seconds:7.1f} s  {slips / seconds:7.1f} payslips/s  {made / seconds:6.1f} PDFs/s "
              f"({made} PDFs) [load {started_at} at its start]{cpu_text(cpu, seconds)}")
        results["payslips"] = seconds
        cpus.append(cpu)
    if sftp_part:
        files = [(s, f"sftp-{e}.xml", declaration(e, regs, rng)) for s, e, regs in sftp_part]
        started_at = load()
        got = sftp_stage(home, files, args.latency_samples, args.sftp_clients, args.sftp_auth)
        if got:
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"sftp      {got['total']:7.1f} s  {got['files'] / got['total']:7.1f} files/s end to end "
                  f"(uploads alone {got['files'] / got['uploaded']:.1f} files/s) [load {started_at} at its start]; "
                  "largest gateway process "
                  f"{peak:.0f} MiB RSS\n          CPU: gateway daemon and its workers {got['cpu_daemon']:.1f} s, "
                  f"OpenSSH clients {got['cpu_clients']:.1f} s ({args.sftp_auth} logins)")
            print(f"latency   upload → acknowledgement, daemon idle: median {got['median']:.2f} s, "
                  f"p95 {got['p95']:.2f} s")
            results["sftp"] = got["total"]
    # the floor of the local files (and payslips) apart, to compare with the local intake's CPU; then the SFTP files
    fl_local = floor(local, slips)
    fl_sftp = floor([(s, f"sftp-{e}.xml", declaration(e, regs, rng)) for s, e, regs in sftp_part], 0) \
        if "sftp" in results else {"parse": 0.0, "db": 0.0, "pdf": 0.0, "total": 0.0}
    fl = {k: fl_local[k] + fl_sftp[k] for k in fl_local}
    print(f"floor     {fl['total']:7.1f} s  (lxml parse+XSD {fl['parse']:.1f} s, SQLAlchemy Core inserts "
          f"{fl['db']:.1f} s, one-page PDFs {fl['pdf']:.1f} s)")
    gateway_total = sum(results.values())
    broken = failed(home)
    if broken:
        print(f"FAILED    {broken} file(s) parked as failed: see {home} (kept)")
        args.keep = True
    print(f"ratio     gateway {gateway_total:.1f} s / floor {fl['total']:.1f} s = {gateway_total / fl['total']:.2f}×")
    if all(cpus):
        main_cpu, workers_cpu = sum(c["main"] for c in cpus), sum(c["workers"] for c in cpus)
        # CPU, not wall: what the gateway's code costs per file whatever the number of cores
        print(f"          CPU of the local intake (main {main_cpu:.1f} s + workers {workers_cpu:.1f} s) / floor "
              f"{fl_local['total']:.1f} s = {(main_cpu + workers_cpu) / fl_local['total']:.1f}×")
        like = like_for_like()
        if like is not None:
            per_file = (cpus[0]["main"] + cpus[0]["workers"]) / len(local) * 1000
            print(f"like-for-like floor (bench/parts.py, this run, load {load()}): {like:.2f} ms per file; the "
                  f"local intake's CPU {per_file:.2f} ms per file = {per_file / like:.2f}× (issue target 1.3×)")
    if args.keep:
        print(f"kept: {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
