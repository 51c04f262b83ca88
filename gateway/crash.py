"""Crash points for the crash tests: ``GATEWAY_CRASH_AT=<name>`` kills this process like a power cut at the
named point of the intake (a real SIGKILL, no cleanup). Nothing happens unless a test sets the variable."""

from __future__ import annotations

import os
import signal

CRASH_VAR = "GATEWAY_CRASH_AT"  # tests only: kill -9 this process at the named point
in_worker = False  # set in a worker process: the intake process that started it dies too


def crash_point(name: str) -> None:
    """Die at ``name`` when a crash test asks for it; in a worker process, the intake process that started it
    dies too (its other workers follow it)."""
    if os.environ.get(CRASH_VAR) == name:
        if in_worker:
            os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
