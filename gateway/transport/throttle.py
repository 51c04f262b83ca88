"""Failed-login throttling: a lockout per (address, subscriber), a slowdown per address.

- **Lockout**: after ``max_failures`` failed passwords for one subscriber number from one address within
  ``window`` seconds, that pair is locked until the oldest of those failures is ``window`` seconds old.
  While locked, every attempt of the pair fails with the usual answer, the correct password included: a
  guesser learns nothing. Another subscriber behind the same address (the NAT of an accounting firm) is
  not locked by it, and neither is the same subscriber from another address. Unknown subscriber numbers
  are counted exactly like known ones.
- **Slowdown**, against spraying one password over many subscriber numbers (which no pair lockout sees):
  once an address has ``free`` recent failures, each password attempt from it waits before it is checked,
  ``floor`` doubled at each further failure, at most ``max_delay``. The wait comes *before* the check, not
  only before the answer to a failure: since a correct password is answered at once, a guesser could
  otherwise take any answer slower than that as a failure, hang up and try again at full speed. So the
  pace of one address is at most (its unauthenticated connections) / ``max_delay`` attempts a second.
  The wait is bounded, so it never locks anybody out; and a subscriber that has logged in from that
  address since the server started does not wait at all (its own failures are the lockout's business).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

_MAX_KEYS = 100_000  # bound the memory an attacker spraying names or addresses can make us use
_KEEP_PER_ADDRESS = 64  # enough to reach any capped delay; older failures no longer change it


class FailureLog:
    """Times of recent failures per key, those younger than ``window`` seconds (at most ``keep`` per key)."""

    def __init__(self, window: float, keep: int, clock: Callable[[], float]) -> None:
        self.window = window
        self.keep = max(1, keep)
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def count(self, key: str) -> int:
        q = self._recent(key, self._clock())
        return 0 if q is None else len(q)

    def add(self, key: str) -> int:
        """Record a failure now; returns the count of recent failures, this one included."""
        now = self._clock()
        if len(self._failures) >= _MAX_KEYS:
            self._prune(now)
        q = self._recent(key, now) or self._failures.setdefault(key, deque(maxlen=self.keep))
        q.append(now)
        return len(q)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

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

    def _prune(self, now: float) -> None:
        for k in list(self._failures):
            self._recent(k, now)
        if len(self._failures) >= _MAX_KEYS:  # still full of fresh failures: forget the oldest half
            for k in sorted(self._failures, key=lambda k: self._failures[k][-1])[: _MAX_KEYS // 2]:
                del self._failures[k]


class Throttle:
    """The lockout and the slowdown of one server. Thread-safe; ``clock`` is injectable for tests."""

    def __init__(
        self,
        max_failures: int,
        window: float,
        *,
        floor: float = 0.25,
        free: int = 5,
        max_delay: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max(1, max_failures)
        self.floor = max(0.0, floor)
        self.free = max(0, free)
        self.max_delay = max(0.0, max_delay)
        self._lock = threading.Lock()
        self._pairs = FailureLog(window, self.max_failures, clock)
        self._addresses = FailureLog(window, _KEEP_PER_ADDRESS, clock)
        self._trusted: OrderedDict[str, None] = OrderedDict()  # pairs that logged in, most recent last

    @staticmethod
    def _pair(address: str, subscriber: str) -> str:
        return f"{address}\x00{subscriber}"

    def locked(self, address: str, subscriber: str) -> bool:
        with self._lock:
            return self._pairs.count(self._pair(address, subscriber)) >= self.max_failures

    def wait_before(self, address: str, subscriber: str) -> float:
        """Seconds a password attempt of this pair waits before it is checked (the slowdown)."""
        with self._lock:
            if self._pair(address, subscriber) in self._trusted:
                return 0.0
            return self.delay_for(self._addresses.count(address))

    def failed(self, address: str, subscriber: str, *, locked: bool = False) -> None:
        """Record a failed attempt. One refused because its pair was already ``locked`` is not counted for
        the pair (else an attacker could keep a subscriber locked for ever), but it is for the address."""
        with self._lock:
            if not locked:
                self._pairs.add(self._pair(address, subscriber))
            self._addresses.add(address)

    def succeeded(self, address: str, subscriber: str) -> None:
        """The pair's failures are forgotten and it no longer waits; the address's failures stay (a guesser
        holding one valid account must not wipe its own slowdown by logging in with it)."""
        pair = self._pair(address, subscriber)
        with self._lock:
            self._pairs.forget(pair)
            self._trusted[pair] = None
            self._trusted.move_to_end(pair)
            if len(self._trusted) > _MAX_KEYS:
                self._trusted.popitem(last=False)

    def delay_for(self, failures: int) -> float:
        """The wait of an attempt from an address that has ``failures`` recent failures."""
        extra = failures - self.free
        if extra < 0:
            return 0.0
        base = self.floor or 0.25
        return min(self.max_delay, base * 2.0 ** min(extra, 32))


__all__ = ["FailureLog", "Throttle"]
