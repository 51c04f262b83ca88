"""Long-lived worker processes that parse and validate uploads, under memory, CPU and time limits.

A hostile or buggy file can only take its worker down: the pool is rebuilt, the file is tried once more
alone (:class:`SharedOrAlone`), and a file that takes its worker down twice is refused. Workers are started
once (spawned, so they share no locks, threads or connections with the daemon) and fed from the executor's
queue: starting a process per file would cost 0.5 s of imports each.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.errors import TechnicalError
from gateway.log import get_logger

log = get_logger(__name__)
T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024
    cpu_seconds: int = 120
    wall_seconds: int = 300


def _die_with_parent(parent: int) -> None:
    # A worker outliving a killed daemon would hold its pipes and a core: ask Linux to kill it with its parent.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _init_worker(memory_mb: int, parent: int) -> None:
    _die_with_parent(parent)
    # Ctrl-C and systemd's SIGTERM reach the whole process group: a worker finishes its file, the parent
    # decides when to stop (it ends the pool; and the worker dies with it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The address-space cap makes a huge allocation fail with MemoryError instead of swapping the host.
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_limited(cpu_seconds: int, func: Callable[..., T], args: tuple[Any, ...]) -> T:
    # RLIMIT_CPU counts the process's whole life: give this task its budget on top of what was used.
    if cpu_seconds > 0:
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, hard))
    return func(*args)


class WorkerLost(TechnicalError):
    """The worker process ended during the task: this task's fault, or another task's that broke the pool."""


class WorkerPool:
    """``run(func, *args)`` in a worker; TechnicalError when the worker dies, overruns or is killed."""

    def __init__(self, workers: int = 0, limits: Limits = Limits()) -> None:
        self.size = workers if workers > 0 else (os.cpu_count() or 1)
        self.limits = limits
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        # Linux delivers PR_SET_PDEATHSIG when the *thread* that forked the worker ends, and the executor
        # spawns workers from whichever thread submits: started from a short-lived intake lane, they were
        # killed when the lane ended, leaving a broken pool for the daemon's next batch. One long-lived
        # thread of the pool's own starts them all instead.
        self._parent = ThreadPoolExecutor(1, thread_name_prefix="workers-parent")

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = self._parent.submit(self._start).result()
            return self._executor

    def _start(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            max_workers=self.size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.limits.memory_mb, os.getpid()),
        )
        # All workers now, from this thread: the executor then never spawns from a submitting thread
        # (it only spawns while it has fewer than max_workers). Private but present in 3.9 to 3.13;
        # without it the workers start on demand as before.
        launch = getattr(executor, "_launch_processes", None)
        if launch is not None:
            launch()
        return executor

    def submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        pool = self._pool()
        try:
            future = pool.submit(_run_limited, self.limits.cpu_seconds, func, args)
        except BrokenProcessPool:
            # a worker died between two files (OOM killer, kill -9): rebuild once instead of failing every
            # file after it
            self._reset("worker died while idle", pool)
            pool = self._pool()
            try:
                future = pool.submit(_run_limited, self.limits.cpu_seconds, func, args)
            except BrokenProcessPool:
                raise TechnicalError("le processus de traitement ne démarre plus") from None
        future.pool = pool  # type: ignore[attr-defined]  # which pool to rebuild if the task breaks it
        return future

    def result(self, future: Future[T]) -> T:
        """Wait for ``future`` within the wall-clock limit; a crash or overrun rebuilds the pool (the one
        the task ran in: every lane whose task it broke sees the break, and the first one has already
        started the next pool, which the others must leave alone)."""
        pool = getattr(future, "pool", None)
        try:
            return future.result(timeout=self.limits.wall_seconds or None)
        except FutureTimeout:
            self._reset("timeout", pool)
            raise TechnicalError(f"traitement interrompu après {self.limits.wall_seconds} s") from None
        except BrokenProcessPool:
            self._reset("worker died", pool)
            raise WorkerLost("le processus de traitement s'est arrêté (limite mémoire ou CPU)") from None
        except MemoryError:
            raise TechnicalError("limite mémoire atteinte pendant le traitement") from None

    def run(self, func: Callable[..., T], *args: Any) -> T:
        return self.result(self.submit(func, *args))

    def _reset(self, why: str, pool: ProcessPoolExecutor | None = None) -> None:
        """Stop ``pool`` (the current one when None) unless it has already been replaced."""
        with self._lock:
            if pool is not None and pool is not self._executor:
                return  # another lane saw the same break and has already replaced that pool
            executor, self._executor = self._executor, None
        log.warning("workers.reset", reason=why)
        if executor is not None:
            for proc in list(getattr(executor, "_processes", {}).values()):
                proc.kill()  # a stuck worker would otherwise keep its core busy
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._parent.shutdown(wait=True)


class InlinePool:
    """Same interface, in the calling process: for tests and the offline validator."""

    size = 1

    def submit(self, func: Callable[..., T], *args: Any) -> Future[T]:
        fut: Future[T] = Future()
        try:
            fut.set_result(func(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut

    def result(self, future: Future[T]) -> T:
        return future.result()

    def run(self, func: Callable[..., T], *args: Any) -> T:
        return func(*args)

    def close(self) -> None:
        pass


class SharedOrAlone:
    """First tries of files share the worker pool; a second try waits for the files in flight to end and
    runs alone (new first tries wait for it)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._sharing = 0
        self._alone = False
        self._waiting_alone = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._alone or self._waiting_alone:
                self._cond.wait()
            self._sharing += 1
        try:
            yield
        finally:
            with self._cond:
                self._sharing -= 1
                self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._waiting_alone += 1
            while self._alone or self._sharing:
                self._cond.wait()
            self._waiting_alone -= 1
            self._alone = True
        try:
            yield
        finally:
            with self._cond:
                self._alone = False
                self._cond.notify_all()
