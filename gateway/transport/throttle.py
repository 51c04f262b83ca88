"""Failed-login throttling, per account and per source address.

After ``max_failures`` failed password attempts within ``window`` seconds, a key (a subscriber number or
an IP address) is locked until the oldest of those failures is ``window`` seconds old. While locked,
every attempt fails with the usual answer, the correct password included: a guesser learns nothing.
Unknown subscriber numbers are counted exactly like known ones.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000  # bound the memory an attacker spraying names or addresses can make us use


class Throttle:
    def __init__(self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max(1, max_failures)
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        q = self._failures.get(key)
        if q is None:
            return None
        while q and now - q[0] >= self.window:
            q.popleft()
        if not q:
            del self._failures[key]
            return None
        return q

    def locked(self, *keys: str) -> bool:
        now = self._clock()
        with self._lock:
            return any((q := self._recent(k, now)) is not None and len(q) >= self.max_failures for k in keys)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= _MAX_KEYS:
                self._prune(now)
            for k in keys:
                q = self._recent(k, now) or self._failures.setdefault(k, deque(maxlen=self.max_failures))
                q.append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for k in list(self._failures):
            self._recent(k, now)
        if len(self._failures) >= _MAX_KEYS:  # still full of fresh failures: forget the oldest half
            for k in sorted(self._failures, key=lambda k: self._failures[k][-1])[: _MAX_KEYS // 2]:
                del self._failures[k]


__all__ = ["Throttle"]
