"""A DOCTYPE past the prescan's 64 KiB: the parser itself opens nothing and the file is refused.

Each file is read in a child process with a timeout, so a parser that opened a FIFO (or its own stdin
through ``/proc/self/fd/0``) fails the test instead of hanging it; under strace, when it can run here,
the child's ``open``/``openat`` calls prove the DOCTYPE's target was never opened.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CANARY_TEXT, Canary

from gateway import formats

PADDING = b"<!--" + b"x" * (1024 * 1024) + b"-->\n"  # 1 MB of comments: far past the prescan
CHILD = """
import json, sys, time
from gateway import formats
data = open(sys.argv[1], "rb").read()
start = time.process_time()
result = formats.read(data, "far.xml")
print(json.dumps({"codes": [f.code for f in result.findings], "line": result.findings[0].location.line,
                  "messages": [f.message for f in result.findings], "cpu": time.process_time() - start}))
"""


def far_doctype(target: str) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + PADDING
        + f'<!DOCTYPE declarations SYSTEM "file://{target}">\n'.encode()
        + b'<declarations xmlns="urn:csm-gateway:declaration:1" software="x"/>\n'
    )


def _strace() -> str | None:
    tool = shutil.which("strace")
    if tool is None:
        return None
    probe = subprocess.run([tool, "-f", "-o", os.devnull, "true"], capture_output=True, timeout=30, check=False)
    return tool if probe.returncode == 0 else None  # ptrace may be forbidden in a container


def _read_in_child(data: bytes, tmp_path: Path, trace: Path | None) -> dict[str, object]:
    upload = tmp_path / "far.xml"
    upload.write_bytes(data)
    command = [sys.executable, "-c", CHILD, str(upload)]
    tool = _strace()
    if trace is not None and tool is not None:
        command = [tool, "-f", "-e", "trace=open,openat,openat2", "-o", str(trace), *command]
    # stdin a pipe held open and never written: opening and reading /proc/self/fd/0 would block for good.
    # A session of its own, so that a hang kills strace and the traced child together.
    stdin_read, stdin_write = os.pipe()
    output = tmp_path / "child.out"
    try:
        with output.open("wb") as out:
            child = subprocess.Popen(
                command, stdin=stdin_read, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                pytest.fail("the parse hung: the DOCTYPE's target was opened")
    finally:
        os.close(stdin_read)
        os.close(stdin_write)
    text = output.read_text()
    assert child.returncode == 0, text
    return dict(json.loads(text.strip().splitlines()[-1]))


@pytest.mark.parametrize("target", ["fifo", "/proc/self/fd/0", "canary"])
def test_far_doctype_refused_and_nothing_opened(canary: Canary, tmp_path: Path, target: str) -> None:
    if target == "fifo":
        path = tmp_path / "evil.fifo"
        os.mkfifo(path)
        target = str(path)
    elif target == "canary":
        target = str(canary.path)
    trace = tmp_path / "strace.out"
    start = time.monotonic()
    result = _read_in_child(far_doctype(target), tmp_path, trace)
    assert result["codes"] == ["XML_DOCTYPE_FORBIDDEN"], result
    assert result["line"] == 3  # the DOCTYPE's own line, after the XML declaration and the comment
    assert float(str(result["cpu"])) < 5, result
    assert CANARY_TEXT not in json.dumps(result)
    if trace.exists():
        opened = [line for line in trace.read_text().splitlines() if target in line]
        assert opened == [], opened
    elif target == str(canary.path):
        pytest.skip("strace missing or not permitted here: the canary file's opening cannot be observed")
    # For the FIFO and /proc/self/fd/0, returning at all proves they were not opened (either would block).
    assert time.monotonic() - start < 60


def test_far_doctype_answers_the_same_whatever_the_target(tmp_path: Path) -> None:
    """No oracle: an existing file, a missing one and a directory give the same refusal."""
    answers = set()
    for target in ("/etc/passwd", str(tmp_path / "missing.dtd"), str(tmp_path)):
        result = formats.read(far_doctype(target), "far.xml")
        answers.add(tuple((f.code, f.message, f.location.line) for f in result.findings))
    refusal = ("XML_DOCTYPE_FORBIDDEN", "Déclaration DOCTYPE interdite (pas de DTD ni d'entités).", 3)
    assert answers == {(refusal,)}


def test_far_internal_subset_refused_unexpanded(canary: Canary) -> None:
    data = (
        PADDING
        + f'<!DOCTYPE d [<!ENTITY % p SYSTEM "file://{canary.path}"> %p;'.encode()
        + f'<!ENTITY e "{"x" * 1000}">]>\n'.encode()
        + b'<declarations xmlns="urn:csm-gateway:declaration:1">' + b"&e;" * 10_000 + b"</declarations>"
    )
    result = formats.read(data, "far.xml")
    assert [f.code for f in result.findings] == ["XML_DOCTYPE_FORBIDDEN"]
    assert result.findings[0].location.line == 2
