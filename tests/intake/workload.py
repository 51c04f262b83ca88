"""Functions the worker tests send to real worker processes (importable by spawned processes)."""

from __future__ import annotations

import time


def eat_memory(mb: int) -> int:
    block = bytearray(mb * 1024 * 1024)
    return len(block)


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke up"


def spin(seconds: float) -> int:
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def echo(value: str) -> str:
    return value


def die_after(seconds: float) -> None:
    """The worker killed mid-task (as the kernel's OOM killer or a CPU limit would): the pool breaks."""
    import os
    import signal

    time.sleep(seconds)
    os.kill(os.getpid(), signal.SIGKILL)


def slow_then(seconds: float, func, *args):  # type: ignore[no-untyped-def]
    """``func(*args)`` after ``seconds``: a legitimate file still in flight when another one breaks the pool."""
    time.sleep(seconds)
    return func(*args)
