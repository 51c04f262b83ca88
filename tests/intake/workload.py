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
