"""A token bucket per caller: ``burst`` requests at once, then ``per_minute``.

Callers are named by the route layer: ``key:<id>`` for an API key, ``ip:<address>``
without one; it also decides who spends no token (classify calls from loopback and
``rate_limit_exempt_networks``, :mod:`spamsift.serving.api.auth`). Buckets live in
this process: with several workers each keeps its own, so the limit a client sees is
up to ``workers`` times the setting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets, refilled continuously.

    Parameters
    ----------
    per_minute : float
        Refill rate; 0 turns limiting off.
    burst : int
        Bucket size: how many requests a caller that has been quiet may send at once.
    clock : callable
        Seconds, monotonic; injectable for tests.
    max_buckets : int
        Past this many callers, buckets that have refilled completely are dropped
        (they hold nothing a new bucket would not).

    Example
    -------
    >>> limiter = RateLimiter(per_minute=60, burst=2)
    >>> [limiter.take("ip:10.0.0.1") for _ in range(3)]  # doctest: +ELLIPSIS
    [0.0, 0.0, 0.9...]
    """

    def __init__(self, per_minute: float, burst: int, *,
                 clock: Callable[[], float] = time.monotonic, max_buckets: int = 10_000
                 ) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, when)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def take(self, caller: str) -> float:
        """Spend one token: 0.0 if there was one, else the seconds until there is."""
        if not self.enabled:
            return 0.0
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                if len(self._buckets) > self._max_buckets:
                    self._prune(now, rate)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / rate

    def _prune(self, now: float, rate: float) -> None:
        full = [c for c, (t, then) in self._buckets.items()
                if t + (now - then) * rate >= self.burst]
        for caller in full:
            del self._buckets[caller]
