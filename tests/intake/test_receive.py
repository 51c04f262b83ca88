"""Receive at its own level: real files, real writer processes, short settle times or a given clock.

What is claimed is exactly what was complete: a writer that pauses beyond the settle time, or writes a
``NAME.done`` too early, never has its half stored; the stored original is a copy the old writer cannot touch.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gateway import receive
from gateway.holders import held_for_writing
from gateway.markers import Marker, read_marker
from gateway.receive import Claimed, RunFolder, claim_many, orphans, read_claimed, scan

SUBSCRIBER = "100001"
FIRST, REST = b"<declarations>" + b"a" * 5000, b"b" * 5000 + b"</declarations>\n"
WHOLE = FIRST + REST


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "inbox" / SUBSCRIBER).mkdir(parents=True)
    return tmp_path / "inbox"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = RunFolder(tmp_path / "jobs" / "run-1")
    yield folder
    folder.release()


def writer(script: str, path: Path, **values: object) -> subprocess.Popen[bytes]:
    """A separate process writing ``path`` as ``script`` says (FIRST, REST and ``values`` in scope); it
    prints ``ready`` once the first part is on disk."""
    code = f"import os, sys, time\nFIRST, REST = {FIRST!r}, {REST!r}\npath = {str(path)!r}\n"
    code += "".join(f"{k} = {v!r}\n" for k, v in values.items()) + textwrap.dedent(script)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return proc


def intake_until(inbox: Path, run: RunFolder, proc: subprocess.Popen[bytes], settle: float,
                 done_settle: float = 1.0, timeout: float = 20.0) -> list[Claimed]:
    """Scan and claim again and again with the real clock until the writer has exited and a file was taken."""
    taken: list[Claimed] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited = proc.poll() is not None
        taken += claim_many(list(scan(inbox, settle, done_settle_seconds=done_settle)), run.incoming)
        if exited and taken:
            return taken
        time.sleep(0.05)
    raise AssertionError("nothing was claimed in time")


def assert_stored_whole(taken: list[Claimed]) -> None:
    assert len(taken) == 1, [c.path.read_bytes()[:20] for c in taken]
    (one,) = taken
    stored = one.path.read_bytes()
    assert stored == WHOLE, f"a torn file was stored ({len(stored)} of {len(WHOLE)} bytes)"
    assert (one.size, one.sha256) == (len(WHOLE), sha(WHOLE))
    assert read_claimed(one.path, 1 << 20) == (WHOLE, len(WHOLE), sha(WHOLE))


# A writer that pauses beyond the settle time -----------------------------------------------------------

def test_a_writer_pausing_beyond_the_settle_time_never_has_its_half_stored(
        inbox: Path, run: RunFolder) -> None:
    path = inbox / SUBSCRIBER / "novembre.xml"
    proc = writer("""
        with open(path, "wb") as fh:
            fh.write(FIRST); fh.flush()
            print("ready", flush=True)
            time.sleep(pause)  # the file is open, its times do not move: it looks settled
            fh.write(REST)
        """, path, pause=1.2)
    taken = intake_until(inbox, run, proc, settle=0.2)
    assert proc.wait() == 0
    assert_stored_whole(taken)
    assert not list(run.incoming.glob("*.held")) and len(list(run.incoming.glob("*.json"))) == 1
    assert not path.exists()


def test_held_for_writing_sees_a_writer_not_a_reader(tmp_path: Path) -> None:
    written, read = tmp_path / "a1b2c3.held", tmp_path / "d4e5f6.held"
    written.write_bytes(b"x")
    read.write_bytes(b"y")
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        w = open({str(written)!r}, "ab"); r = open({str(read)!r}, "rb")
        print("ready", flush=True); sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        written.rename(tmp_path / "renamed.held")  # the writer keeps the inode, whatever its name now
        assert held_for_writing([tmp_path / "renamed.held", read]) == {tmp_path / "renamed.held"}
    finally:
        proc.communicate(b"")
    assert held_for_writing([tmp_path / "renamed.held", read]) == set()


def test_the_stored_original_is_a_copy_the_old_writer_cannot_change(
        inbox: Path, run: RunFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    # A writer the gateway cannot see (another user, no /proc): it resumes after the claim. What was stored
    # stays exactly what was hashed.
    monkeypatch.setattr(receive, "held_for_writing", lambda paths: set())
    path = inbox / SUBSCRIBER / "novembre.xml"
    with open(path, "wb") as fh:
        fh.write(WHOLE)
        fh.flush()
        (one,) = claim_many(list(scan(inbox, 0)), run.incoming)
        fh.write(b"<!-- written after the claim -->")
        fh.flush()
        os.ftruncate(fh.fileno(), 10)
    assert one.path.read_bytes() == WHOLE and (one.size, one.sha256) == (len(WHOLE), sha(WHOLE))
    assert read_claimed(one.path, 0)[1:] == (len(WHOLE), sha(WHOLE))
    assert one.path.stat().st_mode & 0o222 == 0, "the stored original is read-only"


def test_a_file_that_moved_between_the_scan_and_the_claim_goes_back(inbox: Path, run: RunFolder) -> None:
    path = inbox / SUBSCRIBER / "novembre.xml"
    path.write_bytes(FIRST)
    uploads = list(scan(inbox, 0))
    with open(path, "ab") as fh:  # the writer comes back (and closes again) before the claim
        fh.write(REST)
    assert claim_many(uploads, run.incoming) == []
    assert path.read_bytes() == WHOLE, "put back whole, under its name"
    assert list(run.incoming.iterdir()) == []
    assert list(scan(inbox, 5.0)) == [], "put back: it waits for the settle time again"
    (one,) = claim_many(list(scan(inbox, 0)), run.incoming)
    assert one.path.read_bytes() == WHOLE


def test_a_file_that_moves_while_it_is_copied_goes_back(
        inbox: Path, run: RunFolder, monkeypatch: pytest.MonkeyPatch) -> None:
    path = inbox / SUBSCRIBER / "big.xml"
    first = b"x" * (3 << 20)  # several blocks: the writer comes back between two of them
    path.write_bytes(first)
    uploads = list(scan(inbox, 0))
    real_read, calls = os.read, []

    def read(fd: int, n: int) -> bytes:
        calls.append(n)
        if len(calls) == 2:
            with open(run.path / "incoming" / next(p.name for p in run.incoming.glob("*.held")), "ab") as fh:
                fh.write(b"more")
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    assert claim_many(uploads, run.incoming) == []
    monkeypatch.undo()
    assert path.read_bytes() == first + b"more"
    assert sorted(p.name for p in run.incoming.iterdir()) == [], "no copy, no temporary file left"


def test_read_claimed_refuses_a_file_that_moves_while_it_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.data"
    path.write_bytes(b"y" * (2 << 20))
    assert read_claimed(path, 0)[1:] == (2 << 20, sha(b"y" * (2 << 20)))
    real = hashlib.sha256

    class Digest:  # a writer appends while the first block is hashed
        def __init__(self) -> None:
            self.inner, self.blocks = real(), 0

        def update(self, block: bytes) -> None:
            self.blocks += 1
            if self.blocks == 1:
                with open(path, "ab") as fh:
                    fh.write(b"z")
            self.inner.update(block)

        def hexdigest(self) -> str:
            return self.inner.hexdigest()

    monkeypatch.setattr(hashlib, "sha256", Digest)
    with pytest.raises(receive.ClaimChanged):
        read_claimed(path, 0)


# NAME.done -----------------------------------------------------------------------------------------------

def test_an_empty_marker_releases_only_a_file_quiet_for_the_done_settle_time(inbox: Path) -> None:
    path = inbox / SUBSCRIBER / "novembre.xml"
    path.write_bytes(WHOLE)
    (inbox / SUBSCRIBER / "novembre.xml.done").write_bytes(b"")
    now = time.time()
    assert list(scan(inbox, 3600, now=now, done_settle_seconds=1.0)) == []
    (upload,) = scan(inbox, 3600, now=now + 1.5, done_settle_seconds=1.0)
    assert upload.name == "novembre.xml" and upload.marker == inbox / SUBSCRIBER / "novembre.xml.done"


def test_a_marker_written_before_the_data_is_complete_does_not_release_a_partial_file(
        inbox: Path, run: RunFolder) -> None:
    # The writer drops NAME.done first, then appends (opening and closing each time: no descriptor held).
    path = inbox / SUBSCRIBER / "novembre.xml"
    proc = writer("""
        with open(path, "wb") as fh:
            fh.write(FIRST)
        open(path + ".done", "wb").close()
        print("ready", flush=True)
        for i in range(0, len(REST), 500):
            time.sleep(0.1)
            with open(path, "ab") as fh:
                fh.write(REST[i:i + 500])
        """, path)
    taken = intake_until(inbox, run, proc, settle=3600, done_settle=0.5)
    assert proc.wait() == 0
    assert_stored_whole(taken)
    assert not (inbox / SUBSCRIBER / "novembre.xml.done").exists(), "the marker goes with the file"


def test_a_marker_with_the_size_releases_as_soon_as_the_size_matches(inbox: Path, run: RunFolder) -> None:
    path = inbox / SUBSCRIBER / "novembre.xml"
    (inbox / SUBSCRIBER / "novembre.xml.done").write_text(f"size={len(WHOLE)}\n")
    path.write_bytes(FIRST)
    later = time.time() + 7200
    assert list(scan(inbox, 0, now=later)) == [], "too short: not even the settle time releases it"
    with open(path, "ab") as fh:
        fh.write(REST)
    (upload,) = scan(inbox, 3600, done_settle_seconds=3600)  # at once, though it was just written
    (one,) = claim_many([upload], run.incoming)
    assert one.path.read_bytes() == WHOLE


def test_a_marker_with_the_size_and_hash_releases_only_that_content(inbox: Path, run: RunFolder) -> None:
    path = inbox / SUBSCRIBER / "novembre.xml"
    other = WHOLE.replace(b"a", b"c")
    path.write_bytes(other)  # the same size, not the announced bytes
    (inbox / SUBSCRIBER / "novembre.xml.done").write_text(f"size={len(WHOLE)}\nSHA256={sha(WHOLE).upper()}\n")
    assert list(scan(inbox, 0, now=time.time() + 7200)) == []
    path.write_bytes(WHOLE)
    (upload,) = scan(inbox, 3600)
    assert upload.sha256 == sha(WHOLE)
    (one,) = claim_many([upload], run.incoming)
    assert one.sha256 == sha(WHOLE)


def test_a_marker_the_gateway_cannot_read_releases_nothing(inbox: Path) -> None:
    path = inbox / SUBSCRIBER / "novembre.xml"
    path.write_bytes(WHOLE)
    (inbox / SUBSCRIBER / "novembre.xml.done").write_text("sise=12\n")
    assert list(scan(inbox, 3600, now=time.time() + 60)) == []
    (upload,) = scan(inbox, 3600, now=time.time() + 7200)  # the settle time still does
    assert upload.marker is not None, "claimed with the file, the bad marker goes too"


@pytest.mark.parametrize(("content", "expected"), [
    (b"", Marker()),
    (b"\n  \n", Marker()),
    (b"size=10\n", Marker(10)),
    (b"\xef\xbb\xbf size = 10 \r\nsha256=" + b"A" * 64 + b"\r\n", Marker(10, "a" * 64)),
    (b"sha256=" + b"a" * 64, None),  # the size is required
    (b"size=-1", None),
    (b"size=10\nsize=11", None),
    (b"size=10\nsha256=xyz", None),
    (b"10", None),
    (b"size=1" + b" " * 5000, None),
    (b"\xff\xfe", None),
])
def test_read_marker(tmp_path: Path, content: bytes, expected: Marker | None) -> None:
    marker = tmp_path / "x.done"
    marker.write_bytes(content)
    assert read_marker(marker) == expected


def test_a_marker_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("size=3\n")
    os.symlink(tmp_path / "elsewhere", tmp_path / "x.done")
    assert read_marker(tmp_path / "x.done") is None


# Recovery after a crash ----------------------------------------------------------------------------------

def held_by_a_dead_process(tmp_path: Path, inbox: Path, name: str, data: bytes) -> tuple[Path, Path]:
    """A held file and its sidecar, as a process killed between the rename and the copy leaves them."""
    incoming = tmp_path / "jobs" / "run-dead" / "incoming"
    incoming.mkdir(parents=True)
    (incoming.parent / ".lock").touch()
    hold, meta = incoming / "abc.held", incoming / "abc.json"
    hold.write_bytes(data)
    meta.write_text(json.dumps({"subscriber": SUBSCRIBER, "name": name, "claimed_at": 1.0,
                                "source": str(inbox / SUBSCRIBER / name)}))
    return hold, meta


def test_a_held_file_never_copied_goes_back_to_the_inbox(tmp_path: Path, inbox: Path) -> None:
    hold, meta = held_by_a_dead_process(tmp_path, inbox, "novembre.xml", WHOLE)
    assert list(orphans(tmp_path / "jobs", set())) == []
    assert (inbox / SUBSCRIBER / "novembre.xml").read_bytes() == WHOLE
    assert not hold.exists() and not meta.exists()


def test_a_copied_file_is_an_orphan_and_its_held_original_goes(tmp_path: Path, inbox: Path) -> None:
    hold, _meta = held_by_a_dead_process(tmp_path, inbox, "novembre.xml", WHOLE)
    hold.with_suffix(".data").write_bytes(WHOLE)
    (orphan,) = orphans(tmp_path / "jobs", set())
    assert orphan.path == hold.with_suffix(".data") and orphan.name == "novembre.xml"
    assert not hold.exists()


def test_a_held_file_never_replaces_a_new_upload_of_the_same_name(tmp_path: Path, inbox: Path) -> None:
    hold, meta = held_by_a_dead_process(tmp_path, inbox, "novembre.xml", FIRST)
    (inbox / SUBSCRIBER / "novembre.xml").write_bytes(WHOLE)
    assert list(orphans(tmp_path / "jobs", set())) == []
    assert (inbox / SUBSCRIBER / "novembre.xml").read_bytes() == WHOLE
    assert hold.with_suffix(".parked").read_bytes() == FIRST and meta.exists(), "parked, not lost"
    assert list(orphans(tmp_path / "jobs", set())) == [] and meta.exists()
